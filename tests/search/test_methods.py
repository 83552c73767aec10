"""The ask/tell methods without a model: shapes, bounds, seeds, and learning on a toy score."""

from __future__ import annotations

import math

import pytest
import torch

from moldojo.search.methods import BOUND, CMAES, Genetic, RandomSearch

DIM = 6
TARGET = torch.full((DIM,), 0.8, dtype=torch.float64)


def sphere(z: torch.Tensor) -> torch.Tensor:
    return -((z - TARGET) ** 2).sum(1)


def run(cls: type, seed: int, calls: int = 200, batch: int = 10, starts=None) -> list[float]:
    method = cls(DIM, batch, seed, starts, 1.0)
    best, told = -math.inf, []
    while len(told) < calls:
        z = method.ask(min(batch, calls - len(told)))
        assert z.shape == (min(batch, calls - len(told)), DIM) and z.dtype == torch.float64
        scores = sphere(z)
        scores[0] = math.nan  # a failed proposal in every round
        method.tell(z, scores)
        told.extend(scores.tolist())
        best = max(best, max(s for s in scores.tolist() if not math.isnan(s)))
    return told


@pytest.mark.parametrize("cls", [CMAES, Genetic])
def test_learning_methods_beat_random_on_a_toy_score(cls: type) -> None:
    wins = 0
    for seed in range(3):
        best = max(v for v in run(cls, seed) if not math.isnan(v))
        baseline = max(v for v in run(RandomSearch, seed) if not math.isnan(v))
        wins += best > baseline
    assert wins == 3


@pytest.mark.parametrize("cls", [RandomSearch, CMAES, Genetic])
def test_same_seed_same_proposals_other_seed_others(cls: type) -> None:
    def scores(seed: int) -> list[float]:  # NaN (the failures told) compares unequal to itself
        return [-1e9 if math.isnan(v) else v for v in run(cls, seed, calls=40)]

    assert scores(4) == scores(4)
    assert scores(4) != scores(5)


@pytest.mark.parametrize("cls", [CMAES, Genetic])
def test_proposals_stay_in_the_box(cls: type) -> None:
    method = cls(DIM, 8, 0, None, 10.0)  # a huge step: clipped
    for _ in range(5):
        z = method.ask(8)
        assert z.abs().max() <= BOUND
        method.tell(z, sphere(z))


def test_starts_are_where_the_search_begins() -> None:
    starts = torch.full((2, DIM), 2.0, dtype=torch.float64)
    # The genetic algorithm's first points are the starts themselves
    assert torch.equal(Genetic(DIM, 4, 0, starts, 0.1).ask(2), starts)
    # Random search draws around them
    z = RandomSearch(DIM, 100, 0, starts, 0.1).ask(100)
    assert (z.mean(0) - 2.0).abs().max() < 0.05
    # CMA-ES starts at their mean
    z = CMAES(DIM, 50, 0, starts, 0.1).ask(50)
    assert (z.mean(0) - 2.0).abs().max() < 0.1


def test_cmaes_tells_whole_generations_whatever_the_batch() -> None:
    # A batch of 3 with a population of 4: generations are told when complete
    method = CMAES(DIM, 3, 0, None, 1.0)
    assert method._cma.population_size == 4
    for _ in range(4):  # 12 points: three generations
        z = method.ask(3)
        method.tell(z, sphere(z))
    assert method._cma.generation == 3 and method._scored == []
    # A batch of 1 learns too
    best = {}
    for cls in (CMAES, RandomSearch):
        method, scores = cls(DIM, 1, 0, None, 1.0), []
        for _ in range(120):
            z = method.ask(1)
            scores.append(float(sphere(z)[0]))
            method.tell(z, sphere(z))
        best[cls] = max(scores)
    assert best[CMAES] > best[RandomSearch]
