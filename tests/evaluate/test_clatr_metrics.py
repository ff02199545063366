"""CLaTr score, FCD and PRDC on sets whose answers follow from the definitions (gendop.md §8.5)."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit.core.errors import TrajkitError
from trajkit.evaluate.clatr.metrics import MetricInputError, chunk_sizes, clatr_score, coverage, fcd, prdc


@pytest.fixture
def latents():
    return np.random.default_rng(3).normal(0, 1, (200, 8)).astype(np.float32)


def test_fcd_of_identical_sets_is_zero_and_of_shifted_sets_the_squared_shift(latents):
    assert fcd(latents, latents) == pytest.approx(0.0, abs=1e-6)
    shift = np.full(8, 3.0, dtype=np.float32)
    # equal covariances: only ‖μ_r − μ_f‖² = 8 · 3² remains
    assert fcd(latents, latents + shift) == pytest.approx(72.0, rel=1e-5)


def test_fcd_of_a_scaled_set_follows_the_gaussian_closed_form(latents):
    # fake = 2·real: μ_f = 2μ, Σ_f = 4Σ → ‖μ‖² + tr Σ + 4 tr Σ − 2·2 tr Σ = ‖μ‖² + tr Σ
    mu = latents.astype(np.float64).mean(0)
    expected = float(mu @ mu + np.trace(np.cov(latents.astype(np.float64), rowvar=False)))
    assert fcd(latents, 2 * latents) == pytest.approx(expected, rel=1e-4)
    assert fcd(2 * latents, latents) == pytest.approx(expected, rel=1e-4)  # symmetric


def test_coverage_is_one_for_identical_sets_and_zero_for_far_ones(latents):
    same = prdc(latents, latents)
    assert same["coverage"] == 1.0 and same["precision"] == 1.0 and same["recall"] == 1.0
    far = prdc(latents, latents + 1000.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    assert coverage(latents, latents + 1000.0) == 0.0


def test_coverage_counts_real_samples_with_a_fake_inside_their_ball():
    # 1-D, one chunk, k = 1: radii of the reals 0, 1, 10, 11 are 1, 1, 1, 1
    real = np.array([[0.0], [1.0], [10.0], [11.0]])
    fake = np.array([[0.5], [0.4], [50.0], [60.0]])  # only 0 and 1 have a fake closer than 1
    got = prdc(real, fake, k=1, chunks=1)
    assert got["coverage"] == 0.5
    assert got["precision"] == 0.5  # fakes 0.5 and 0.4 lie in some real ball, 50 and 60 in none
    assert got["density"] == pytest.approx((2 + 2 + 0 + 0) / 4)  # 0.5 and 0.4 lie in the balls of 0 and 1


def test_recall_bug_uses_the_radius_of_the_real_index():
    # k = 1, fake radii: 1, 1, 499, 500. Reals 400 and 600 are within 499 of fake 500 (correct recall counts
    # them) but not within the radius 1 of fakes 0 and 1, which the buggy index picks for them.
    real = np.array([[400.0], [600.0], [2.0], [3.0]])
    fake = np.array([[0.0], [1.0], [500.0], [1000.0]])
    assert prdc(real, fake, k=1, chunks=1, recall_bug=False)["recall"] == 1.0
    assert prdc(real, fake, k=1, chunks=1)["recall"] == 0.5


def test_chunks_follow_torch_chunk_and_small_chunks_are_refused(latents):
    assert chunk_sizes(24) == [5, 5, 5, 5, 4]
    assert chunk_sizes(16) == [4, 4, 4, 4]  # four chunks, not five
    assert chunk_sizes(22) == [5, 5, 5, 5, 2]
    with pytest.raises(MetricInputError, match=r"sizes \[5, 5, 5, 5, 2\].*chunks=1"):
        prdc(latents[:22], latents[:22])
    assert prdc(latents[:22], latents[:22], chunks=1)["coverage"] == 1.0


def test_prdc_averages_its_chunks():
    # chunk 1: identical (coverage 1); chunk 2: far apart (coverage 0) → 0.5
    rng = np.random.default_rng(0)
    real = rng.normal(0, 1, (10, 4))
    fake = real.copy()
    fake[5:] += 100.0
    assert prdc(real, fake, chunks=2)["coverage"] == 0.5


def test_clatr_score_is_high_for_matched_pairs_and_low_for_shuffled_ones(latents):
    rng = np.random.default_rng(1)
    text = latents + 0.1 * rng.normal(0, 1, latents.shape).astype(np.float32)
    assert clatr_score(latents, latents) == pytest.approx(100.0, abs=1e-4)
    matched = clatr_score(latents, text)
    shuffled = clatr_score(latents, text[rng.permutation(len(text))])
    assert matched > 95.0 and shuffled < 10.0
    assert clatr_score(latents, -latents) == 0.0  # mean cosine −1, clipped at 0


@pytest.mark.parametrize(("call", "match"), [
    (lambda x: clatr_score(x, x[:5]), "pairs each generated latent"),
    (lambda x: fcd(x[:1], x[:1]), "at least 2 latents"),
    (lambda x: fcd(x, x[:, :4]), "widths differ"),
    (lambda x: prdc(x, x[:50]), "equally many"),
    (lambda x: prdc(np.full((20, 8), np.nan), x[:20]), "finite"),
])
def test_bad_inputs_are_named(latents, call, match):
    with pytest.raises(TrajkitError, match=match):
        call(latents)
