"""ATI motion patch against ATI's reference outputs (shared/specs/ati.md §14)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from trajkit.control.ati import check_window, motion_patch, motion_patch_dense, window_active
from trajkit.core.errors import ValidationError

NAMES = ["bear", "deco", "fish", "giraffe", "human", "sea"]


def y_in(h: int, w: int) -> np.ndarray:
    """The spec's synthetic conditioning: mask 1 on latent frame 0, latent = sin/cos pattern (float64 → float32)."""
    c = np.arange(16)[:, None, None, None]
    t = np.arange(21)[None, :, None, None]
    i = np.arange(h)[None, None, :, None]
    j = np.arange(w)[None, None, None, :]
    lat = np.sin(0.37 * c + 0.11 * i) + np.cos(0.23 * j - 0.05 * c) + 0.01 * t
    mask = np.zeros((4, 21, h, w))
    mask[:, 0] = 1
    return np.concatenate([mask, np.broadcast_to(lat, (16, 21, h, w))]).astype(np.float32)


def reference(data_dir: Path, name: str) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    ref = np.load(data_dir / "ati" / "reference" / f"{name}_reference.npz")
    h, w = (int(v) for v in ref["latent_hw"])
    y = y_in(h, w)
    return torch.from_numpy(ref["tracks_processed"]), torch.from_numpy(y), y + ref["delta"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("chunk_bytes", [16 * 2**20, 1])
def test_patch_matches_reference(data_dir: Path, name: str, chunk_bytes: int) -> None:
    # chunk_bytes=1: one track and one latent frame at a time — the running top-k does all the work.
    tracks, y, expected = reference(data_dir, name)
    out = motion_patch(tracks, y, chunk_bytes=chunk_bytes).numpy()
    assert out.shape == expected.shape and out.dtype == np.float32
    assert np.abs(out - expected).max() <= 1e-5


@pytest.mark.parametrize("name", ["deco", "sea"])
def test_dense_transcription_matches_reference(data_dir: Path, name: str) -> None:
    tracks, y, expected = reference(data_dir, name)
    assert np.abs(motion_patch_dense(tracks, y).numpy() - expected).max() <= 1e-5


def test_patch_structure(data_dir: Path) -> None:
    tracks, y, _ = reference(data_dir, "deco")
    out = motion_patch(tracks, y).numpy()
    np.testing.assert_array_equal(out[:, 0], y.numpy()[:, 0])  # latent frame 0 and its mask untouched
    for c in range(1, 4):
        np.testing.assert_array_equal(out[c], out[0])  # ω copied into all four mask channels
    assert out[0, 1:].max() > 1.0  # unclamped: deco's overlapping tracks give ω = 1.0185


def test_batch_of_track_sets_matches_each_reference(data_dir: Path) -> None:
    fish, y, fish_expected = reference(data_dir, "fish")  # fish and giraffe share the 96×64 latent
    giraffe, y2, giraffe_expected = reference(data_dir, "giraffe")
    assert torch.equal(y, y2)
    out = motion_patch([fish, giraffe], y, chunk_bytes=4096)  # different N per item (8 and 2)
    assert out.shape == (2, *y.shape)
    assert np.abs(out[0].numpy() - fish_expected).max() <= 1e-5
    assert np.abs(out[1].numpy() - giraffe_expected).max() <= 1e-5
    stacked = motion_patch(torch.stack([fish, fish]), torch.stack([y, y]))
    assert np.abs(stacked[1].numpy() - fish_expected).max() <= 1e-5


def _random_tracks(n: int, frames: int, seed: int, spread: float = 1.3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xy = (torch.rand(frames, n, 2, generator=g) * 2 - 1) * spread
    vis = torch.where(torch.rand(frames, n, 1, generator=g) < 0.7, 1.0, -1.0)
    t = torch.linspace(-1, 1, frames)[:, None, None].expand(frames, n, 1)
    return torch.cat([t, xy, vis], dim=-1)


@pytest.mark.parametrize(("n", "frames", "topk"), [(1, 81, 2), (5, 49, 2), (37, 17, 3), (64, 81, 1)])
def test_bounded_equals_dense_on_edge_cases(n: int, frames: int, topk: int) -> None:
    # N = 1 (top-k 1), 4k+1 lengths other than 81, off-image points (spread 1.3 > 1), tracks hidden at frame 0.
    tracks = _random_tracks(n, frames, seed=n)
    tracks[0, 0, 3] = -1
    T = (frames - 1) // 4 + 1
    y = torch.randn(20, T, 24, 40, generator=torch.Generator().manual_seed(1))
    dense = motion_patch_dense(tracks, y, topk=topk, temperature=150.0)
    for chunk_bytes in (1, 24 * 40 * 4 * 3, 2**24):
        out = motion_patch(tracks, y, topk=topk, temperature=150.0, chunk_bytes=chunk_bytes)
        assert (out - dense).abs().max().item() <= 1e-5


def test_no_tracks_and_all_hidden_leave_latent_and_zero_mask() -> None:
    y = torch.randn(20, 3, 8, 8)
    empty = motion_patch(torch.zeros(9, 0, 4), y)
    hidden = _random_tracks(3, 9, seed=0)
    hidden[..., 3] = -1
    for out in (empty, motion_patch(hidden, y)):
        assert torch.equal(out[4:], y[4:])
        assert torch.equal(out[:4, 1:], torch.zeros(4, 2, 8, 8)) and torch.equal(out[:4, 0], torch.ones(4, 8, 8))


def test_training_tail_dropout() -> None:
    tracks, y = _random_tracks(6, 81, seed=3), torch.randn(20, 21, 16, 16)
    assert torch.equal(motion_patch(tracks, y, training=True, tail_dropout=0.0), motion_patch(tracks, y))
    a = motion_patch(tracks, y, training=True, tail_dropout=1.0, generator=torch.Generator().manual_seed(5))
    b = motion_patch(tracks, y, training=True, tail_dropout=1.0, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and not torch.equal(a, motion_patch(tracks, y))


def test_training_tail_dropout_drops_the_tail_drawn_by_the_generator() -> None:
    """Spec §6.1 step 4: per track ``u ~ U[0,1)`` then ``r = (L−1)·U[0,1)`` from the generator; a track with
    ``u ≤ p`` loses its visibility for frames ``t ≥ r`` (the tail), its head ``t < r`` stays."""
    n, frames, p = 8, 81, 0.5
    tracks, y = _random_tracks(n, frames, seed=4, spread=0.9), torch.randn(20, 21, 16, 16)
    tracks[..., 3] = 1.0
    g = torch.Generator().manual_seed(11)
    u = torch.rand(n, generator=g)
    r = torch.rand(n, generator=g) * (frames - 1)
    t = torch.arange(frames, dtype=torch.float32)[:, None]
    keep = (u[None] > p) | (t < r[None])
    dropped = u <= p
    assert dropped.any() and (~dropped).any()  # the seed exercises both kinds of track
    assert ((r[dropped] > 4) & (r[dropped] < frames - 4)).all()  # cut away from the ends: head ≠ tail
    expected = tracks.clone()
    expected[..., 3] = torch.where(keep, 1.0, -1.0)
    out = motion_patch(tracks, y, training=True, tail_dropout=p, generator=torch.Generator().manual_seed(11))
    assert torch.equal(out, motion_patch(expected, y))


def test_dense_reference_frees_the_difference_tensor_as_ati_does() -> None:
    """ATI computes ``(P − grid).pow(2).sum(-1)`` in one expression, so its ``(T−1, H, W, N, 2)`` difference is
    freed once squared: peak ≈ 4 ``(T−1, H, W, N)`` float32 units (difference + square). Keeping the difference
    alive while summing costs a fifth unit. Measured as the child's peak RSS above its RSS before the call
    (each unit here is 50 MB, far above glibc's mmap threshold, so freed blocks leave RSS at once)."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux /proc to reset and read the peak RSS")
    code = textwrap.dedent("""
        import gc, torch
        from trajkit.control.ati import motion_patch_dense
        def kib(key):
            return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key))
        torch.set_grad_enabled(False)
        g = torch.Generator().manual_seed(0)
        n, h, w = 100, 60, 104
        tracks = torch.cat([torch.zeros(81, n, 1), torch.rand(81, n, 2, generator=g) * 2 - 1,
                            torch.ones(81, n, 1)], -1)
        y = torch.randn(20, 21, h, w, generator=g)
        motion_patch_dense(tracks[:, :2], y)
        gc.collect()
        base = kib("VmRSS")
        open("/proc/self/clear_refs", "w").write("5")
        motion_patch_dense(tracks, y)
        print((kib("VmHWM") - base) * 1024 / (20 * h * w * n * 4))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    units = float(out.stdout.split()[-1])
    assert 3.5 < units < 4.5, units


def test_dtype_kept() -> None:
    tracks, y = _random_tracks(4, 9, seed=1), torch.randn(20, 3, 8, 8, dtype=torch.float64)
    assert motion_patch(tracks, y).dtype == torch.float64


@pytest.mark.parametrize(("tracks", "y", "field"), [
    (torch.zeros(81, 2, 3), torch.zeros(20, 21, 4, 4), "tracks"),
    (torch.zeros(80, 2, 4), torch.zeros(20, 21, 4, 4), "frames"),
    (torch.zeros(49, 2, 4), torch.zeros(20, 21, 4, 4), "tracks"),
    (torch.full((81, 2, 4), float("nan")), torch.zeros(20, 21, 4, 4), "tracks"),
    (torch.zeros(81, 2, 4), torch.zeros(16, 21, 4, 4), "y"),
    (torch.zeros(3, 81, 2, 4), torch.zeros(2, 20, 21, 4, 4), "tracks"),
])
def test_bad_input_names_the_field(tracks: torch.Tensor, y: torch.Tensor, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        motion_patch(tracks, y)
    assert err.value.field == field


def test_step_window() -> None:
    assert all(window_active(i, 40) for i in range(40))
    assert [window_active(i, 4, (0.0, 0.5)) for i in range(4)] == [True, True, False, False]
    assert [window_active(i, 4, (0.5, 1.0)) for i in range(4)] == [False, False, True, True]
    assert not any(window_active(i, 4, (0.0, 0.0)) for i in range(4))
    assert check_window([0.1, 0.9]) == (0.1, 0.9)
    for bad in ([0.5, 0.2], [-0.1, 1], [0, 2], "x"):
        with pytest.raises(ValidationError):
            check_window(bad)
    with pytest.raises(ValidationError):
        motion_patch(_random_tracks(1, 9, 0), torch.zeros(20, 3, 4, 4), topk=0)
