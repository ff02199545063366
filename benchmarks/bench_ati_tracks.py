"""Reading ATI track files: trajkit's torch-free safe reader vs torch.load(weights_only=True) + np.load.

Also times ATI's normalisation (121 → 81 frames) against a straightforward per-frame Python loop of the
spec (ati.md §3). Prints ratios (baseline / ours; > 1 means trajkit is faster) and absolute figures.

Run: python benchmarks/bench_ati_tracks.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import io
import math
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import trajkit
from trajkit.core import ati_track_input
from trajkit.formats import ati_pth

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ati"


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def baseline_normalise(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The spec's steps written plainly, one frame and one track at a time."""
    w, h = size
    s = min(w, h)
    n = array.shape[0]
    out = np.zeros((81, n, 4), dtype=np.float32)
    for j in range(81):
        src = math.floor(3 * j / 2)
        for k in range(n):
            x, y, v = array[k, src, 0] / 8
            out[j, k] = (-1 + 2 * src / 120, (x - w / 2) / s * 2, (y - h / 2) / s * 2, 2 * v - 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    import torch

    path = DATA / "tracks" / "fish.pth"
    ours = best_of(lambda: trajkit.load(path, size=(724, 1086)), args.repeat)
    base = best_of(lambda: np.load(io.BytesIO(torch.load(path, weights_only=True)))["array"], args.repeat)
    raw = ati_pth.decode_array(np.load(io.BytesIO(torch.load(path, weights_only=True)))["array"])
    tracks = trajkit.Tracks(xy=raw[0], visible=raw[1], size=(724, 1086), fps=24)
    array = np.load(io.BytesIO(torch.load(path, weights_only=True)))["array"].astype(np.float32)
    norm_ours = best_of(lambda: ati_track_input(tracks), args.repeat)
    norm_base = best_of(lambda: baseline_normalise(array, (724, 1086)), max(3, args.repeat // 5))
    assert np.abs(ati_track_input(tracks) - baseline_normalise(array, (724, 1086))).max() < 1e-5

    print(f"machine: {platform.node()} {platform.machine()}, {__import__('os').cpu_count()} cores, "
          f"python {platform.python_version()}")
    print(f"read fish.pth (8 tracks):   trajkit {ours * 1e3:.3f} ms   torch.load+np.load {base * 1e3:.3f} ms   "
          f"ratio baseline/ours {base / ours:.2f}")
    print(f"ATI normalisation 121→81:   trajkit {norm_ours * 1e6:.1f} µs   per-frame loop {norm_base * 1e6:.1f} µs   "
          f"ratio baseline/ours {norm_base / norm_ours:.1f}")


if __name__ == "__main__":
    main()
