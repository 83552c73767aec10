"""optimize with the shipped model: budget accounting, determinism, the similarity and scaffold
constraints, and the side-by-side searches of optimize_each."""

from __future__ import annotations

import math

import pytest
from rdkit import Chem
from rdkit.Chem import Crippen

import moldojo
from moldojo.chem.scaffold import keeps_scaffold, parse_scaffold
from moldojo.errors import InvalidSmilesError, MoldojoError, ScaffoldError
from moldojo.models.generator import Generator
from moldojo.sampling import DEFAULT_MODEL
from moldojo.search import optimize, optimize_each
from moldojo.search.objectives import ObjectiveError

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no model shipped")

START = "CC(=O)Nc1ccc(O)cc1"


@pytest.fixture(scope="module")
def model() -> Generator:
    return moldojo.load()


class Counter:
    """An objective that counts the molecules it scores."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, smiles: list[str]) -> list[float]:
        self.seen += len(smiles)
        return [float(len(s)) for s in smiles]


@pytest.mark.parametrize("method", ["random", "cmaes", "ga", "bo"])
def test_the_budget_is_every_call_and_the_seed_fixes_the_run(model: Generator,
                                                             method: str) -> None:  # fmt: skip
    # When optimising with a budget that is no multiple of the batch
    counter = Counter()
    result = optimize(model, counter, method=method, budget=23, batch=8, seed=3)
    # Then exactly 23 calls were made, in rounds of 8, 8 and 7
    assert result.oracle_calls == 23 == len(result.proposals)
    assert [p.iteration for p in result.proposals] == [1] * 8 + [2] * 8 + [3] * 7
    assert [p.call for p in result.proposals] == list(range(1, 24))
    # And the objective saw exactly the calls that decoded and met the constraints
    assert counter.seen == sum(p.status == "ok" for p in result.proposals)
    assert result.valid_fraction == sum(p.smiles is not None for p in result.proposals) / 23
    # And the best is the best of the calls
    assert result.best_score == max(p.score for p in result.proposals if p.status == "ok")
    assert result.best_so_far()[-1] == result.best_score
    # And the same seed gives the same run
    again = optimize(model, Counter(), method=method, budget=23, batch=8, seed=3)
    assert [p.smiles for p in again.proposals] == [p.smiles for p in result.proposals]


def test_the_similarity_constraint_fails_proposals_below_it(model: Generator) -> None:
    result = optimize(model, "logp", method="random", budget=40, batch=20, start=START,
                      min_similarity=0.5, sigma=1.0)  # fmt: skip
    ok = [p for p in result.proposals if p.status == "ok"]
    below = [p for p in result.proposals if p.status == "below_similarity"]
    assert ok and below, "a wide search gives some of each"
    assert all(p.similarity >= 0.5 and not math.isnan(p.score) for p in ok)
    assert all(p.similarity < 0.5 and math.isnan(p.score) for p in below)
    # The top molecules are among those similar enough; the start's own score is reported
    assert {s for s, _ in result.top(3)} <= {p.smiles for p in ok}
    assert result.summary()["start_best_score"] == pytest.approx(Crippen.MolLogP(
        Chem.MolFromSmiles(START)))  # fmt: skip


def test_the_scaffold_constraint_holds_for_every_proposal(model: Generator) -> None:
    result = optimize(model, "qed", method="cmaes", budget=30, batch=10, scaffold="c1ccncc1")
    smiles = [p.smiles for p in result.proposals]
    assert all(keeps_scaffold(smiles, parse_scaffold("c1ccncc1")))
    assert result.failures() == {}
    with pytest.raises(ScaffoldError):
        optimize(moldojo.load("two-step"), "qed", method="random", budget=2, scaffold="c1ccccc1")


def test_optimize_each_is_optimize_per_start_side_by_side(model: Generator) -> None:
    starts = [START, "Cc1ccccc1C(=O)OCC"]
    each = optimize_each(model, "qed", starts, method="cmaes", budget=20, batch=10, seed=7)
    for k, start in enumerate(starts):
        alone = optimize(model, "qed", method="cmaes", budget=20, batch=10, start=start,
                         seed=7 + k)  # fmt: skip
        assert [p.smiles for p in each[k].proposals] == [p.smiles for p in alone.proposals]
        assert each[k].start == (start,)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"budget": 0}, ValueError),
        ({"batch": 0}, ValueError),
        ({"min_similarity": 0.4}, ValueError),
        ({"start": START, "min_similarity": 1.5}, ValueError),
        ({"sigma": 0.0}, ValueError),
        ({"method": "nope"}, MoldojoError),
        ({"start": "c1cc"}, InvalidSmilesError),
        ({"scaffold": "c1cc"}, InvalidSmilesError),
    ],
)
def test_bad_arguments_fail_before_any_call(model: Generator, kwargs: dict,
                                            error: type) -> None:  # fmt: skip
    counter = Counter()
    with pytest.raises(error):
        optimize(model, counter, **{"method": "random", "budget": 5, **kwargs})
    assert counter.seen == 0


def test_a_misbehaving_objective_stops_the_search(model: Generator) -> None:
    with pytest.raises(ObjectiveError, match="returned 0 values"):
        optimize(model, lambda smiles: [], method="random", budget=5)
    with pytest.raises(ObjectiveError, match="unknown objective"):
        optimize(model, "nope", method="random", budget=5)
