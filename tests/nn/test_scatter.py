"""Scatter reductions and the segment softmax against dense loops and torch_geometric.utils."""

from __future__ import annotations

import pytest
import torch

from moldojo.nn.scatter import scatter_max, scatter_mean, scatter_softmax, scatter_sum

REDUCE = {"sum": scatter_sum, "mean": scatter_mean, "max": scatter_max}


def segments(
    num_rows: int = 20, dim_size: int = 7, trailing: tuple[int, ...] = (3,), seed: int = 0
):
    """Random ``src [M, *trailing]`` and ``index [M]``; groups 2 and 6 are left empty."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randn(num_rows, *trailing, generator=g, dtype=torch.float64)
    choices = torch.tensor([k for k in range(dim_size) if k not in (2, 6)])
    index = choices[torch.randint(0, choices.numel(), (num_rows,), generator=g)]
    return src, index, dim_size


def dense(reduce: str, src: torch.Tensor, index: torch.Tensor, dim_size: int) -> torch.Tensor:
    rows = []
    for i in range(dim_size):
        group = src[index == i]
        if group.shape[0] == 0:
            rows.append(src.new_zeros(src.shape[1:]))
        elif reduce == "sum":
            rows.append(group.sum(0))
        elif reduce == "mean":
            rows.append(group.mean(0))
        else:
            rows.append(group.max(0).values)
    return torch.stack(rows)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 4)], ids=["1d", "2d", "3d"])
def test_reductions_match_a_dense_loop(reduce: str, trailing: tuple[int, ...]) -> None:
    src, index, n = segments(trailing=trailing)
    out = REDUCE[reduce](src, index, n)
    assert out.shape == (n, *trailing) and out.dtype == src.dtype
    torch.testing.assert_close(out, dense(reduce, src, index, n), atol=1e-12, rtol=1e-12)
    assert torch.equal(out[2], src.new_zeros(trailing)) and torch.equal(out[6], out[2])


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_reductions_match_torch_geometric(reduce: str) -> None:
    utils = pytest.importorskip("torch_geometric.utils")
    for seed in range(3):
        src, index, n = segments(num_rows=50, dim_size=9, trailing=(5,), seed=seed)
        expected = utils.scatter(src, index, dim=0, dim_size=n, reduce=reduce)
        torch.testing.assert_close(REDUCE[reduce](src, index, n), expected, atol=1e-12, rtol=1e-12)


def test_max_of_negative_values_is_not_clipped_at_zero() -> None:
    src = torch.tensor([[-3.0], [-1.0], [-2.0]])
    out = scatter_max(src, torch.tensor([0, 0, 2]), 3)
    assert out.flatten().tolist() == [-1.0, 0.0, -2.0]


@pytest.mark.parametrize("fn", [scatter_sum, scatter_mean, scatter_max, scatter_softmax])
def test_no_rows_at_all(fn) -> None:
    src = torch.zeros(0, 4)
    out = fn(src, torch.zeros(0, dtype=torch.long), 3)
    assert out.shape == ((0, 4) if fn is scatter_softmax else (3, 4))
    assert torch.equal(out, torch.zeros_like(out))


@pytest.mark.parametrize("fn", [scatter_sum, scatter_mean, scatter_max], ids=["sum", "mean", "max"])
def test_gradients_pass_gradcheck(fn) -> None:
    src, index, n = segments(num_rows=12, dim_size=5, trailing=(2,))  # random: no ties in max
    src.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda s: fn(s, index, n), (src,))


def test_max_splits_the_gradient_between_ties() -> None:
    src = torch.tensor([1.0, 1.0, 0.5, 2.0], requires_grad=True)
    scatter_max(src, torch.tensor([0, 0, 0, 1]), 2).sum().backward()
    assert src.grad.tolist() == [0.5, 0.5, 0.0, 1.0]


def test_softmax_matches_a_dense_loop_and_torch_geometric() -> None:
    src, index, n = segments(num_rows=30, dim_size=7, trailing=(3,))
    out = scatter_softmax(src, index, n)
    expected = torch.empty_like(src)
    for i in range(n):
        mask = index == i
        if mask.any():
            expected[mask] = torch.softmax(src[mask], dim=0)
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(scatter_sum(out, index, n)[index], torch.ones_like(src))
    utils = pytest.importorskip("torch_geometric.utils")
    torch.testing.assert_close(out, utils.softmax(src, index, num_nodes=n), atol=1e-12, rtol=1e-12)


def test_softmax_gradient_passes_gradcheck() -> None:
    src, index, n = segments(num_rows=12, dim_size=5, trailing=(2,))
    src.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda s: scatter_softmax(s, index, n), (src,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [1e4, 1e30])
def test_softmax_is_stable_for_huge_scores(dtype: torch.dtype, scale: float) -> None:
    src = torch.tensor([1.0, 0.0, -1.0, 1.0, 2.0], dtype=dtype) * scale
    index = torch.tensor([0, 0, 0, 1, 1])
    src.requires_grad_(True)
    out = scatter_softmax(src, index, 2)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out.detach(), torch.tensor([1.0, 0, 0, 0, 1.0], dtype=dtype))
    (out * torch.arange(5.0, dtype=dtype)).sum().backward()
    assert torch.isfinite(src.grad).all()


def test_softmax_is_shift_invariant_per_group() -> None:
    src, index, n = segments(num_rows=25, dim_size=7, trailing=(4,))
    shift = torch.randn(n, 4, dtype=torch.float64) * 100
    torch.testing.assert_close(
        scatter_softmax(src + shift[index], index, n), scatter_softmax(src, index, n)
    )
