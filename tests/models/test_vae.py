"""The Gaussian posterior and KL annealing shared by the VAEs."""

from __future__ import annotations

import pytest
import torch

from moldojo.errors import ConfigError
from moldojo.models.vae import KLSchedule, gaussian_kl, reparameterize, tempered_softmax


def test_kl_of_the_prior_is_zero_and_matches_monte_carlo() -> None:
    assert torch.allclose(gaussian_kl(torch.zeros(3, 5), torch.zeros(3, 5)), torch.zeros(3))
    g = torch.Generator().manual_seed(0)
    mu = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.2, -0.7, 0.1]], dtype=torch.float64)
    z = reparameterize(mu.expand(200_000, 3), logvar.expand(200_000, 3), g)
    log_q = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(1)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)
    assert float((log_q - log_p).mean()) == pytest.approx(float(gaussian_kl(mu, logvar)), rel=0.02)


def test_reparameterize_is_seeded() -> None:
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    a = reparameterize(mu, logvar, torch.Generator().manual_seed(1))
    b = reparameterize(mu, logvar, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["linear", "sigmoid", "cyclical", "constant"])
def test_schedules_reach_their_end_points(kind: str) -> None:
    schedule = KLSchedule(kind=kind, beta_max=0.5, warmup_steps=100, cycle_steps=100)
    if kind != "constant":
        assert schedule(0) == pytest.approx(0.0, abs=0.005)
    assert schedule(100 if kind != "cyclical" else 50) == pytest.approx(0.5, abs=0.005)
    assert schedule(10_000 if kind != "cyclical" else 99) == pytest.approx(0.5)
    if kind == "cyclical":
        assert schedule(100) == 0.0 and schedule(125) == pytest.approx(0.25)
    values = [schedule(s) for s in range(0, 100)]
    if kind in ("linear", "sigmoid"):
        assert values == sorted(values)


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ConfigError):
        KLSchedule(kind="exponential")
    with pytest.raises(ConfigError):
        KLSchedule(warmup_steps=0)


@pytest.mark.parametrize("temperature", [5e-324, 1e-300, 1e-3, 1.0, 1e3, 1e300, 1.7e308])
def test_tempered_softmax_is_a_distribution_at_every_temperature(temperature: float) -> None:
    # Given logits with a masked entry, in float32 as the decoders give them
    logits = torch.tensor([[2.0, -1.0, float("-inf"), 0.5]])
    # When they are tempered, Then the result is a distribution with the mask kept
    probs = tempered_softmax(logits, temperature)
    assert probs.dtype == torch.float32 and torch.isfinite(probs).all()
    assert float(probs.sum()) == pytest.approx(1.0) and float(probs[0, 2]) == 0.0
    # And it is softmax(logits / T) where that is computable, the argmax or uniform at the ends
    if 1e-3 <= temperature <= 1e3:
        assert torch.allclose(probs, torch.softmax(logits / temperature, dim=-1))
    elif temperature < 1e-3:
        assert probs.tolist() == [[1.0, 0.0, 0.0, 0.0]]
    else:
        assert torch.allclose(probs, torch.tensor([[1 / 3, 1 / 3, 0.0, 1 / 3]]))
