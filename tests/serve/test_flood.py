"""A flood of concurrent requests gets answers or 'busy', and the server keeps answering."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx


def test_fifty_concurrent_requests_then_business_as_usual(server: str) -> None:
    def request(i: int) -> int:
        body = {"n": 30, "seed": i} if i % 2 else {"smiles": "C" * 100_000}
        path = "/api/sample" if i % 2 else "/api/neighbours"
        try:
            return httpx.post(server + path, json=body, timeout=120).status_code
        except httpx.HTTPError:
            return -1

    # When 50 requests arrive at once (half of them far too large)
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(request, range(50)))
    # Then each is answered: done, busy or too large, never a server error or a dropped line
    assert set(statuses) <= {200, 413, 503}, statuses
    assert statuses.count(413) == 25 and 200 in statuses
    # And afterwards the server answers as before
    assert httpx.get(server + "/api/info", timeout=10).status_code == 200
    answer = httpx.post(server + "/api/sample", json={"n": 3, "seed": 1}, timeout=60)
    assert answer.status_code == 200 and len(answer.json()["molecules"]) == 3
