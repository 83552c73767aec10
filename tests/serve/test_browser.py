"""The page in a real headless Chromium (the system's ``chromium``, driven by Playwright): sample,
interpolate between two typed SMILES, neighbours, motif tree, start and cancel an optimisation.

Skips, saying why, when Playwright or a Chromium is missing (``.ci/run`` installs Debian's
``chromium`` so that CI always runs it). ``MOLDOJO_SCREENSHOT=PATH`` saves the sample panel's
screenshot there (the README's picture); a screenshot always goes to the test's tmp_path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

A, B = "CC(=O)Nc1ccc(O)cc1", "Cc1ccccc1C(=O)OCC"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[playwright.Page]:
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(server + "/")
        tab.wait_for_selector("body[data-info='1']", timeout=30_000)
        yield tab
        browser.close()
        assert errors == [], f"JavaScript errors on the page: {errors}"


def _idle(page: playwright.Page) -> None:
    page.wait_for_selector("body[data-busy='0']", timeout=60_000)


def test_sample_draws_every_molecule(page: playwright.Page, tmp_path: Path) -> None:
    page.click("#tab-sample")
    page.fill("#sample-n", "6")
    page.fill("#sample-seed", "3")
    page.click("#sample-run")
    page.wait_for_function("document.querySelectorAll('#sample-results .card').length === 6")
    _idle(page)
    assert page.locator("#sample-results .card img").count() == 6
    assert "6 valid" in page.inner_text("#sample-summary")
    assert page.inner_text("#sample-error").strip() == ""
    page.screenshot(path=str(tmp_path / "sample.png"))
    if os.environ.get("MOLDOJO_SCREENSHOT"):
        page.screenshot(path=os.environ["MOLDOJO_SCREENSHOT"])


def test_interpolate_between_two_typed_molecules(page: playwright.Page) -> None:
    page.click("#tab-interpolate")
    page.fill("#interp-a", A)
    page.fill("#interp-b", B)
    page.fill("#interp-steps", "3")
    page.click("#interp-run")
    page.wait_for_function("document.querySelectorAll('#interp-results .card').length === 5")
    _idle(page)
    assert page.locator("#interp-results .card img").count() == 5
    assert "similarity" in page.inner_text("#interp-summary")
    # A SMILES the model cannot read is an error line, not a broken page
    page.fill("#interp-a", "C1CC")
    page.click("#interp-run")
    page.wait_for_function("document.querySelector('#interp-error').textContent.length > 0")
    _idle(page)
    assert "C1CC" in page.inner_text("#interp-error")


def test_neighbours_and_motif_tree(page: playwright.Page) -> None:
    page.click("#tab-neighbours")
    page.fill("#neigh-smiles", A)
    page.fill("#neigh-n", "4")
    page.click("#neigh-run")
    page.wait_for_function("document.querySelectorAll('#neigh-results .card').length === 5")
    _idle(page)
    assert page.locator("#neigh-results .card.query").count() == 1
    page.click("#tab-motifs")
    page.fill("#motif-smiles", A)
    page.click("#motif-run")
    page.wait_for_function("document.querySelector('#motif-tree').textContent.length > 0")
    _idle(page)
    assert page.get_attribute("#motif-image", "src").startswith("data:image/png;base64,")


def test_start_and_cancel_an_optimisation(page: playwright.Page) -> None:
    page.click("#tab-optimize")
    page.select_option("#opt-method", "random")
    page.fill("#opt-budget", "2000")
    page.fill("#opt-batch", "2")
    page.click("#opt-run")
    page.wait_for_selector("#opt-status[data-state='running']", timeout=30_000)
    # The best-so-far plot and the top molecules appear while it runs
    page.wait_for_function("document.querySelectorAll('#opt-top .card').length > 0",
                           timeout=60_000)  # fmt: skip
    assert page.locator("#opt-plot svg").count() == 1
    page.click("#opt-cancel")
    page.wait_for_selector("#opt-status[data-state='cancelled']", timeout=60_000)
    assert "cancelled" in page.inner_text("#opt-status")
    # A short one runs to its end
    page.fill("#opt-budget", "20")
    page.fill("#opt-batch", "10")
    page.select_option("#opt-method", "cmaes")
    page.click("#opt-run")
    page.wait_for_selector("#opt-status[data-state='done']", timeout=60_000)
    assert "20 oracle calls" in page.inner_text("#opt-status")
