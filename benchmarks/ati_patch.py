"""ATI motion patch: trajkit's memory-bounded patch vs a straightforward dense transcription of the spec.

Both run on the same random tracks at 81 frames, 480×832 (latent 21×60×104), inference mode, float32.
Times (best of ``--repeat``) and the largest absolute difference between the two outputs come from this
process. Peak extra memory: on CUDA ``max_memory_allocated`` above the allocation before the call, in this
process; on the CPU each implementation runs once in a fresh child process (a process's heap keeps freed
pages, so RSS in a warm process under-reports) and reports its peak RSS (``VmHWM``) above the RSS just
before the call. Prints the ratios dense / trajkit.

    python benchmarks/ati_patch.py                      # N = 8, 100, 500, 2000 on the CPU
    python benchmarks/ati_patch.py --device cuda --tracks 8 100 500 2000 5000
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import subprocess
import sys
import time

import torch
from _rss import reset_peak, rss_kib

from trajkit.control.ati import motion_patch, motion_patch_dense


def peak_cpu_mib(impl: str, n: int) -> float:
    """Peak extra RSS (MiB) of one call of ``impl`` for ``n`` tracks, measured in a fresh child process."""
    out = subprocess.run([sys.executable, __file__, "--child", impl, str(n)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def child(impl: str, n: int) -> None:
    torch.set_grad_enabled(False)
    tracks, y = inputs(n, "cpu")
    fn = IMPLS[impl]
    fn(*inputs(2, "cpu"))  # load kernels and libraries before measuring
    gc.collect()
    base = reset_peak()
    fn(tracks, y)
    print((rss_kib("VmHWM:") - base) / 1024)


def measure(fn, device: str, repeat: int, impl: str, n: int) -> tuple[float, float, torch.Tensor]:
    """(best seconds, peak extra MiB, output) of ``fn()``."""
    gc.collect()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    out = fn()
    if device == "cuda":
        torch.cuda.synchronize()
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = peak_cpu_mib(impl, n)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, peak, out


def inputs(n: int, device: str, h: int = 60, w: int = 104, frames: int = 81) -> tuple[torch.Tensor, torch.Tensor]:
    """Random tracks (smooth paths, some hidden spans) and a random conditioning ``y``."""
    g = torch.Generator().manual_seed(n)
    T = (frames - 1) // 4 + 1
    aspect = torch.tensor([w / min(h, w), h / min(h, w)])
    start = (torch.rand(n, 2, generator=g) * 2 - 1) * aspect
    velocity = (torch.rand(n, 2, generator=g) - 0.5) * 0.02
    t = torch.arange(frames, dtype=torch.float32)[:, None, None]
    xy = start[None] + velocity[None] * t
    vis = torch.where(torch.rand(frames, n, 1, generator=g) < 0.9, 1.0, -1.0)
    tchan = torch.linspace(-1, 1, frames)[:, None, None].expand(frames, n, 1)
    tracks = torch.cat([tchan, xy, vis], dim=-1)
    y = torch.randn(20, T, h, w, generator=g)
    y[:4] = 0
    y[:4, 0] = 1
    return tracks.to(device), y.to(device)


IMPLS = {"dense": motion_patch_dense, "ours": motion_patch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, nargs="+", default=[8, 100, 500, 2000])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-dense-above", type=int, default=4000, help="dense needs ≈2 MB per track")
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    torch.set_grad_enabled(False)
    name = torch.cuda.get_device_name() if args.device == "cuda" else f"{platform.processor() or platform.machine()}"
    print(f"ATI motion patch, 81 frames, 480×832 (latent 60×104), float32, {args.device} ({name}, "
          f"{torch.get_num_threads()} threads), torch {torch.__version__}, load {os.getloadavg()[0]:.2f}")
    print(f"{'N':>6} {'dense s':>9} {'ours s':>9} {'speed×':>7} {'dense MiB':>10} {'ours MiB':>9} {'memory×':>8} "
          f"{'max |diff|':>11}")
    for n in args.tracks:
        tracks, y = inputs(n, args.device)
        ours_t, ours_m, ours = measure(lambda tracks=tracks, y=y: motion_patch(tracks, y), args.device, args.repeat,
                                       "ours", n)
        if n > args.skip_dense_above:
            print(f"{n:>6} {'-':>9} {ours_t:>9.3f} {'-':>7} {'-':>10} {ours_m:>9.1f}")
            continue
        dense_t, dense_m, dense = measure(lambda tracks=tracks, y=y: motion_patch_dense(tracks, y), args.device,
                                          args.repeat, "dense", n)
        diff = (ours - dense).abs().max().item()
        print(f"{n:>6} {dense_t:>9.3f} {ours_t:>9.3f} {dense_t / ours_t:>7.1f} {dense_m:>10.1f} {ours_m:>9.1f} "
              f"{dense_m / max(ours_m, 1e-3):>8.1f} {diff:>11.2e}")
        del dense
        gc.collect()


if __name__ == "__main__":
    main()
