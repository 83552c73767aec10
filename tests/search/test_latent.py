"""moldojo.search: interpolation and neighbourhoods on the shipped models, and the path maths."""

from __future__ import annotations

import math

import pytest
import torch
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

import moldojo
from moldojo.errors import InvalidSmilesError, MoldojoError
from moldojo.models.generator import Decoded, Generator
from moldojo.search import interpolate, lerp, neighbours, slerp, tanimoto

PAIRS = {
    "hier": ("CC(=O)Nc1ccc(O)cc1", "Cc1ccccc1C(=O)OCC"),
    "two-step": ("CCO", "OC1CC1C#N"),
}


@pytest.fixture(scope="module", params=sorted(PAIRS))
def model(request: pytest.FixtureRequest) -> Generator:
    return moldojo.load(request.param)


def rdkit_tanimoto(a: str, b: str) -> float:
    fpgen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fa, fb = (fpgen.GetFingerprint(Chem.MolFromSmiles(s)) for s in (a, b))
    return DataStructs.TanimotoSimilarity(fa, fb)


# ------------------------------------------------------------------------------------ paths


def test_slerp_of_unit_vectors_stays_on_the_sphere() -> None:
    # Given two random unit vectors in float64
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        a, b = torch.randn(2, 16, generator=g, dtype=torch.float64)
        a, b = a / a.norm(), b / b.norm()
        t = torch.linspace(0, 1, 9, dtype=torch.float64)
        # When interpolating spherically
        points = slerp(a, b, t)
        # Then every point has norm 1, the ends are exact and the angle grows linearly
        torch.testing.assert_close(points.norm(dim=1), torch.ones(9, dtype=torch.float64))
        assert torch.equal(points[0], a) and torch.equal(points[-1], b)
        angles = torch.arccos(torch.clamp(points @ a, -1, 1))
        torch.testing.assert_close(angles, t * angles[-1])


def test_slerp_norm_lies_between_the_endpoints_norms() -> None:
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(2, 32, generator=g, dtype=torch.float64)
    b = 3 * b
    norms = slerp(a, b, torch.linspace(0, 1, 11, dtype=torch.float64)).norm(dim=1)
    low, high = sorted([a.norm().item(), b.norm().item()])
    assert ((norms >= low - 1e-9) & (norms <= high + 1e-9)).all()
    # whereas halfway along the straight line between two vectors of one norm, the norm sinks
    half = torch.tensor([0.5], dtype=torch.float64)
    c = b * a.norm() / b.norm()
    assert lerp(a, c, half).norm() < 0.9 * a.norm()
    torch.testing.assert_close(slerp(a, c, half).norm(), a.norm())


@pytest.mark.parametrize("b_of_a", [lambda a: 2 * a, lambda a: -a, lambda a: torch.zeros_like(a)])
def test_slerp_of_parallel_or_zero_vectors_is_the_straight_line(b_of_a) -> None:  # noqa: ANN001
    a = torch.tensor([1.0, 2.0, -0.5], dtype=torch.float64)
    b = b_of_a(a)
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    points = slerp(a, b, t)
    assert torch.isfinite(points).all()
    torch.testing.assert_close(points, lerp(a, b, t))


# ---------------------------------------------------------------------------- interpolation


@pytest.mark.parametrize("path", ["linear", "slerp"])
def test_interpolation_endpoints_are_the_reconstructions(model: Generator, path: str) -> None:
    # Given two molecules the model can encode
    a, b = PAIRS[model.kind]
    # When interpolating with 3 steps
    result = interpolate(model, a, b, 3, path=path)
    # Then there are 5 points, the ends decode to the reconstructions and sit at the means
    assert len(result.smiles) == len(result.reasons) == 5 and result.steps == 3
    assert result.points.shape == (5, model.latent_dim)
    assert [result.smiles[0], result.smiles[-1]] == list(model.reconstruct([a, b]))
    # (batched encoding may differ in the last float bits from one at a time)
    torch.testing.assert_close(result.points[[0, -1]], model.encode([a, b]), atol=1e-4, rtol=0)
    assert 0 <= result.changes <= 4
    assert result.changes == sum(
        x != y for x, y in zip(result.smiles, result.smiles[1:], strict=False)
    )


def test_interpolation_similarities_match_rdkit(model: Generator) -> None:
    a, b = PAIRS[model.kind]
    result = interpolate(model, a, b, 4)
    valid = [s for s in result.smiles if s is not None]
    expected = [rdkit_tanimoto(x, y) for x, y in zip(valid, valid[1:], strict=False)]
    assert result.similarities == pytest.approx(expected)
    assert result.mean_similarity == pytest.approx(sum(expected) / len(expected))


def test_interpolation_is_deterministic(model: Generator) -> None:
    a, b = PAIRS[model.kind]
    first = interpolate(model, a, b, 3, path="slerp")
    second = interpolate(model, a, b, 3, path="slerp")
    assert first.smiles == second.smiles and torch.equal(first.points, second.points)


def test_interpolating_a_molecule_with_itself_changes_nothing(model: Generator) -> None:
    a = PAIRS[model.kind][0]
    result = interpolate(model, a, a, 2, path="slerp")
    assert result.changes == 0 and len(set(result.smiles)) == 1
    assert result.mean_similarity == 1.0


def test_interpolation_refuses_bad_input(model: Generator) -> None:
    a, b = PAIRS[model.kind]
    with pytest.raises(InvalidSmilesError, match="SMILES_B 'C1CC'.*invalid_input"):
        interpolate(model, a, "C1CC", 2)
    with pytest.raises(MoldojoError, match="SMILES_A"):
        interpolate(model, "not a molecule", b, 2)
    for steps in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="steps"):
            interpolate(model, a, b, steps)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="path"):
        interpolate(model, a, b, 2, path="cubic")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- neighbourhoods


def test_neighbours_are_seeded_sorted_and_scored_like_rdkit(model: Generator) -> None:
    query = PAIRS[model.kind][0]

    def run(seed: int) -> moldojo.search.Neighbourhood:
        return neighbours(model, query, 8, radius=0.5,
                          generator=torch.Generator().manual_seed(seed))  # fmt: skip

    first, again, other = run(0), run(0), run(1)
    # Then the same seed gives the same neighbours, another seed other points
    assert first.smiles == again.smiles and torch.equal(first.points, again.points)
    assert not torch.equal(first.points, other.points)
    # sorted by similarity, failures last, each similarity as RDKit computes it
    values = first.similarities
    assert len(first.smiles) == len(values) == 8 and first.points.shape == (8, model.latent_dim)
    finite = [v for v in values if not math.isnan(v)]
    assert finite == sorted(finite, reverse=True)
    assert all(math.isnan(v) for v in values[len(finite) :])
    for s, v in zip(first.smiles, values, strict=True):
        if s is not None:
            assert v == pytest.approx(rdkit_tanimoto(query, s))
    # duplicates kept, and counted
    assert first.unique == len({s for s in first.smiles if s}) <= first.valid


def test_neighbours_at_radius_zero_are_the_reconstruction(model: Generator) -> None:
    query = PAIRS[model.kind][0]
    result = neighbours(model, query, 3, radius=0.0)
    assert result.smiles == list(model.reconstruct([query])) * 3
    assert result.unique == 1


def test_neighbours_refuse_bad_input(model: Generator) -> None:
    with pytest.raises(InvalidSmilesError, match="'C1CC'.*invalid_input"):
        neighbours(model, "C1CC", 2)
    for radius in (math.nan, math.inf, -0.1):
        with pytest.raises(ValueError, match="radius"):
            neighbours(model, "CCO", 2, radius=radius)
    with pytest.raises(ValueError, match="n must"):
        neighbours(model, "CCO", 0)


def test_tanimoto_of_missing_molecules_is_nan() -> None:
    assert math.isnan(tanimoto(None, "CCO")) and math.isnan(tanimoto("CCO", ""))
    assert tanimoto("CCO", "OCC") == 1.0


def failing_every_other_row(model: Generator) -> Generator:
    """``model`` whose decodings of odd rows fail (``valence``), as a constrained-free decoder's
    may."""
    decode = model.decode

    def patched(z: torch.Tensor, **kwargs: object) -> Decoded:
        out = decode(z, **kwargs)  # type: ignore[arg-type]
        smiles = [None if i % 2 else s for i, s in enumerate(out)]
        return Decoded(smiles, [("valence" if i % 2 else r) for i, r in enumerate(out.reasons)])

    model.decode = patched  # type: ignore[method-assign]
    return model


def test_failed_decodes_are_counted_and_skipped() -> None:
    # Given a model whose odd rows fail to decode
    model = failing_every_other_row(moldojo.load("two-step"))
    a, b = PAIRS["two-step"]
    # When interpolating: failures are None with their reason, skipped by the similarities
    path = interpolate(model, a, b, 3)
    assert path.smiles[1] is None and path.smiles[3] is None and path.reasons[1] == "valence"
    assert path.valid == 3 and len(path.similarities) == 2
    # When taking neighbours: failures come last, with NaN similarity
    near = neighbours(model, a, 6, generator=torch.Generator().manual_seed(0))
    assert near.valid == 3 and near.smiles[3:] == [None] * 3
    assert all(math.isnan(v) for v in near.similarities[3:]) and near.reasons[3:] == ["valence"] * 3
    assert not math.isnan(near.mean_similarity)
