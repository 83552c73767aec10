"""The web explorer's JSON API through an HTTP test client: every endpoint with good and bad
input, limits, and an optimisation started, streamed and cancelled."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import moldojo
from moldojo.sampling import DEFAULT_MODEL
from moldojo.serve import Limits, create_app

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no model shipped")

A, B = "CC(=O)Nc1ccc(O)cc1", "Cc1ccccc1C(=O)OCC"
LIMITS = Limits(sample_n=30, budget=400, seconds=60)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(moldojo.load(), name="hier", limits=LIMITS)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def two_step() -> Iterator[TestClient]:
    with TestClient(create_app(moldojo.load("two-step"), name="two-step")) as test_client:
        yield test_client


def test_page_and_its_files_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/static/app.js" in page.text
    for name, kind in (("app.js", "javascript"), ("style.css", "css")):
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
    # Only those files: no path reaches the disk
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/index.html", "/etc/passwd",
                 "/api/nope"):  # fmt: skip
        assert client.get(path).status_code == 404


def test_info_says_what_the_model_can_do(client: TestClient, two_step: TestClient) -> None:
    info = client.get("/api/info").json()
    assert info["kind"] == "hier" and info["scaffold"] is True and info["latent_dim"] == 32
    assert info["limits"]["sample_n"] == 30 and "bo" in info["methods"]
    assert two_step.get("/api/info").json()["scaffold"] is False


def test_sample_gives_molecules_with_properties_and_drawings(client: TestClient) -> None:
    answer = client.post("/api/sample", json={"n": 6, "seed": 1})
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["molecules"]) == 6 and body["valid"] == 6
    for mol in body["molecules"]:
        assert mol["valid"] and mol["svg"].lstrip().startswith("<?xml") or "<svg" in mol["svg"]
        assert 0 <= mol["qed"] <= 1 and 1 <= mol["sa"] <= 10
    # Same seed, same molecules; the model's own sample agrees
    again = client.post("/api/sample", json={"n": 6, "seed": 1}).json()
    assert [m["smiles"] for m in again["molecules"]] == [m["smiles"] for m in body["molecules"]]
    scaffold = client.post("/api/sample", json={"n": 5, "scaffold": "c1ccncc1"}).json()
    assert scaffold["scaffold_kept"] == 5


def test_interpolate_neighbours_and_motifs(client: TestClient) -> None:
    path = client.post("/api/interpolate", json={"a": A, "b": B, "steps": 3, "path": "slerp"})
    assert path.status_code == 200
    steps = path.json()["steps"]
    assert len(steps) == 5 and steps[0]["sim_a"] == 1.0 and steps[-1]["sim_b"] == 1.0
    near = client.post("/api/neighbours", json={"smiles": A, "n": 4, "radius": 0.3}).json()
    values = [m["similarity"] for m in near["neighbours"]]
    assert len(values) == 4 and values == sorted(values, reverse=True)
    assert near["query"]["smiles"] == A
    motifs = client.post("/api/motifs", json={"smiles": A}).json()
    assert motifs["png"].startswith("iVBORw0KGgo") and len(motifs["tree"]) >= 2


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/api/sample", {"n": 0}, 422, "n:"),
        ("/api/sample", {"n": 31}, 422, "n:"),
        ("/api/sample", {"n": 10**9}, 422, "n:"),
        ("/api/sample", {"n": "many"}, 422, "n:"),
        ("/api/sample", {"temperature": -1}, 422, "temperature"),
        ("/api/sample", {"seed": -1}, 422, "seed"),
        ("/api/sample", {"nope": 1}, 422, "nope"),
        ("/api/sample", {"scaffold": "c1cc"}, 400, "c1cc"),
        ("/api/sample", {"scaffold": "C1CCCCCCCCCCC1"}, 400, "vocabulary"),
        ("/api/interpolate", {"a": "C1CC", "b": B}, 400, "C1CC"),
        ("/api/interpolate", {"a": A}, 422, "b:"),
        ("/api/interpolate", {"a": A, "b": B, "steps": 21}, 422, "steps"),
        ("/api/interpolate", {"a": A, "b": B, "path": "spline"}, 422, "path"),
        ("/api/neighbours", {"smiles": "x" * 501}, 422, "smiles"),
        ("/api/neighbours", {"smiles": "\x00\x1b"}, 400, "smiles"),
        ("/api/motifs", {"smiles": ""}, 422, "smiles"),
        ("/api/motifs", {"smiles": "C.C"}, 400, "fragments"),
        ("/api/optimize", {"objective": "nope"}, 400, "unknown objective"),
        ("/api/optimize", {"objective": "python:os:getcwd"}, 400, "python:"),
        ("/api/optimize", {"objective": "qed", "budget": 10**9}, 422, "budget"),
        ("/api/optimize", {"objective": "qed", "budget": 0}, 422, "budget"),
        ("/api/optimize", {"objective": "qed", "min_similarity": 0.4}, 400, "start"),
        ("/api/optimize", {"objective": "qed", "start": "C1CC"}, 400, "start"),
    ],
)
def test_bad_input_is_a_json_error_never_a_500(client: TestClient, path: str, body: dict,
                                               status: int, words: str) -> None:  # fmt: skip
    answer = client.post(path, json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert words.lower() in error.lower() and "\n" not in error


def test_huge_and_malformed_bodies(client: TestClient) -> None:
    huge = client.post("/api/neighbours", json={"smiles": "C" * 100_000})
    assert huge.status_code == 413 and "error" in huge.json()
    broken = client.post(
        "/api/sample", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and "error" in broken.json()
    assert client.post("/api/sample", json=[1, 2]).status_code == 422


def events(client: TestClient, job: str) -> list[tuple[str, dict]]:
    """Every server-sent event of an optimisation, until "done"."""
    out, kind = [], None
    with client.stream("GET", f"/api/optimize/{job}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                out.append((kind, json.loads(line[6:])))
    return out


def test_an_optimisation_streams_rounds_then_its_summary(client: TestClient) -> None:
    job = client.post("/api/optimize", json={"objective": "qed", "method": "cmaes",
                                             "budget": 30, "batch": 10}).json()["job"]  # fmt: skip
    stream = events(client, job)
    rounds = [data for kind, data in stream if kind == "round"]
    assert [r["calls"] for r in rounds] == [10, 20, 30]
    assert len(rounds[-1]["best"]) == 30 and rounds[-1]["top"][0]["score"] is not None
    kind, done = stream[-1]
    assert kind == "done" and done["status"] == "done"
    assert done["summary"]["oracle_calls"] == 30
    assert done["summary"]["best_score"] == pytest.approx(rounds[-1]["top"][0]["score"], abs=1e-3)


def test_one_optimisation_per_client_and_cancel(client: TestClient) -> None:
    job = client.post("/api/optimize", json={"objective": "logp", "method": "random",
                                             "budget": 400, "batch": 2}).json()["job"]  # fmt: skip
    second = client.post("/api/optimize", json={"objective": "qed"})
    assert second.status_code == 409 and "running" in second.json()["error"]
    time.sleep(0.3)
    assert client.post(f"/api/optimize/{job}/cancel").json()["status"] in ("cancelling",
                                                                           "cancelled")  # fmt: skip
    kind, done = events(client, job)[-1]
    assert kind == "done" and done["status"] == "cancelled"
    assert done["summary"]["oracle_calls"] < 400 and done["summary"]["cancelled"] is True
    # The client may start another now
    again = client.post("/api/optimize", json={"objective": "qed", "budget": 2, "batch": 2})
    assert again.status_code == 200
    events(client, again.json()["job"])
    assert client.get("/api/optimize/nope/events").status_code == 404
    assert client.post("/api/optimize/nope/cancel").status_code == 404
