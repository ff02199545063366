"""GenDoP's CLaTr metrics on latents (``shared/specs/gendop.md`` §8.5): CLaTr score, FCD and PRDC coverage.

Latents are ``(N, D)`` arrays (CLaTr's 256-d ``z``). GenDoP passes references as *real* and generated paths as
*fake* (DIRECTOR passes them the other way round, so its coverage is not comparable; FCD is symmetric).

Quirks kept by default, each behind a named option:

- PRDC is averaged over ``chunks = 5`` sequential, aligned chunks as ``torch.chunk`` cuts them (size ⌈N/5⌉,
  the last smaller, and *fewer* than five chunks when N is small: N = 16 gives four chunks of 4); every chunk
  needs ``k + 1`` samples. ``chunks=1`` gives whole-set PRDC.
- Recall compares ``d(real_i, fake_j)`` with the fake radius of ``i`` (``recall_bug=True``); the correct
  radius is that of ``j``. GenDoP does not report recall.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from ...core.errors import TrajkitError, ValidationError

#: Nearest neighbours of GenDoP's PRDC.
NEAREST_K = 3
#: Chunks GenDoP's PRDC averages over.
CHUNKS = 5


class MetricInputError(TrajkitError, ValueError):
    """Latents the metrics cannot use (too few for the chunks, sets of different sizes)."""


def _latents(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 2 or a.shape[0] < 1:
        raise ValidationError(name, "latents (N, D) with N ≥ 1", str(a.shape), where="CLaTr metrics")
    if not np.isfinite(a).all():
        raise ValidationError(name, "finite values", "NaN or inf", where="CLaTr metrics")
    return a.astype(np.float32)


def clatr_score(generated: np.ndarray, text: np.ndarray) -> float:
    """``max(0, mean_i 100·cos(z_gen,i, z_text,i))`` of paired latents (the text latent of each prompt)."""
    g, t = _latents(generated, "generated"), _latents(text, "text")
    if g.shape != t.shape:
        raise MetricInputError(f"CLaTr score pairs each generated latent with its text latent: {g.shape} vs {t.shape}")
    g = g / np.linalg.norm(g, axis=1, keepdims=True)
    t = t / np.linalg.norm(t, axis=1, keepdims=True)
    return max(0.0, float((100 * (g * t).sum(axis=1)).mean()))


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[0]
    if n < 2:
        raise MetricInputError(f"FCD needs at least 2 latents per set, found {n}")
    # sums formed in float32 (the latents' dtype) and accumulated in float64, as GenDoP's metric does
    total = x.sum(axis=0).astype(np.float64)
    outer = (x.T @ x).astype(np.float64)
    mean = total / n
    return mean, (outer - n * np.outer(mean, mean)) / (n - 1)


def fcd(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet CLaTr distance ``‖μ_r − μ_f‖² + tr Σ_r + tr Σ_f − 2·Σ_k Re √λ_k(Σ_r Σ_f)``."""
    r, f = _latents(real, "real"), _latents(fake, "fake")
    if r.shape[1] != f.shape[1]:
        raise MetricInputError(f"FCD: latent widths differ ({r.shape[1]} vs {f.shape[1]})")
    mu_r, cov_r = _moments(r)
    mu_f, cov_f = _moments(f)
    eig = np.linalg.eigvals(cov_r @ cov_f).astype(np.complex128)
    return float(((mu_r - mu_f) ** 2).sum() + np.trace(cov_r) + np.trace(cov_f) - 2 * np.sqrt(eig).real.sum())


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    d2 = (a64 * a64).sum(1)[:, None] + (b64 * b64).sum(1)[None] - 2 * a64 @ b64.T
    return np.sqrt(np.maximum(d2, 0.0))


def _radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each sample to its k-th nearest neighbour, the sample itself counted as the 0th."""
    return np.sort(_distances(x, x), axis=1)[:, k]


def _prdc_chunk(real: np.ndarray, fake: np.ndarray, k: int, recall_bug: bool) -> np.ndarray:
    r_real, r_fake = _radii(real, k), _radii(fake, k)
    d = _distances(real, fake)  # d[i, j] = ‖real_i − fake_j‖
    inside_real = d < r_real[:, None]
    precision = inside_real.any(axis=0).mean()
    fake_radius = r_fake[:, None] if recall_bug else r_fake[None, :]
    recall = (d < fake_radius).any(axis=1).mean()
    density = inside_real.sum(axis=0).mean() / k
    coverage = (d.min(axis=1) < r_real).mean()
    return np.array([precision, recall, density, coverage], dtype=np.float64)


def chunk_sizes(n: int, chunks: int = CHUNKS) -> list[int]:
    """Sizes of ``torch.chunk(range(n), chunks)``: pieces of ⌈n/chunks⌉, the last smaller (maybe fewer pieces)."""
    size = math.ceil(n / chunks)
    return [min(size, n - s) for s in range(0, n, size)]


def prdc(real: np.ndarray, fake: np.ndarray, *, k: int = NEAREST_K, chunks: int = CHUNKS,
         recall_bug: bool = True) -> dict[str, float]:
    """Precision, recall, density and coverage (Naeem et al. 2020, Euclidean), GenDoP's chunked average."""
    r, f = _latents(real, "real"), _latents(fake, "fake")
    if r.shape != f.shape:
        raise MetricInputError(f"PRDC compares aligned chunks of equally many real and fake latents: "
                               f"{r.shape} vs {f.shape}")
    if chunks < 1 or k < 1:
        raise MetricInputError(f"PRDC needs chunks ≥ 1 and k ≥ 1, found chunks={chunks}, k={k}")
    sizes = chunk_sizes(len(r), chunks)
    if min(sizes) < k + 1:
        raise MetricInputError(
            f"PRDC with k={k} needs ≥ {k + 1} latents in every chunk; {len(r)} latents split into "
            f"{chunks} chunks gives sizes {sizes} — use more samples, or chunks=1 for whole-set PRDC")
    starts = np.cumsum([0, *sizes])
    values = np.mean([_prdc_chunk(r[a:b], f[a:b], k, recall_bug) for a, b in pairwise(starts)], axis=0)
    return dict(zip(("precision", "recall", "density", "coverage"), map(float, values), strict=True))


def coverage(real: np.ndarray, fake: np.ndarray, *, k: int = NEAREST_K, chunks: int = CHUNKS) -> float:
    """Share of real latents with a fake latent inside their k-NN ball (GenDoP's ``clatr/coverage``)."""
    return prdc(real, fake, k=k, chunks=chunks)["coverage"]
