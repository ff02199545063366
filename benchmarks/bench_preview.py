"""Preview backend: the old Shepard backward warp against the new forward-splatting animatic, and overlay speed.

1. Render 81 frames at 832×480 with 10, 100 and 1000 random moving tracks, and a camera + depth job (the demo's
   dolly + pan over its ray-cast scene, with the rolling ball): old (Shepard-interpolated displacement field,
   backward ``cv2.remap``: the backend before issue 14, its algorithm restated here as the baseline — same field,
   cell 4, radius 8, power 2, replicated border; every track here is visible, so its fade does not apply) vs new
   (``trajkit.backends.preview.render_preview``). Seconds and peak memory (peak RSS above the start, each run in
   a fresh child process), and the ratio old / new. Real time for 81 frames at 16 fps is 5.06 s.
2. Against the truth: PSNR/SSIM of the new preview (and the old one) for the demo job and the sprite scene.
3. Track overlay on 81 frames: ``bench_overlay.py`` (trajkit's one-pass rasteriser against ATI's
   ``paint_point_track`` and a plain ``cv2.circle`` loop), run here with its defaults unless ``--skip-overlay``.

Run: python benchmarks/bench_preview.py [--tracks 10 100 1000] [--skip-old] [--skip-overlay]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import time
from collections.abc import Callable

import cv2
import numpy as np
from _rss import reset_peak, rss_kib
from bench_overlay import noise_image, random_tracks
from bench_overlay import run as run_overlay

from trajkit import Tracks
from trajkit.backends.preview import render_preview

W, H, T = 832, 480, 81


def old_preview(image: np.ndarray, tracks: Tracks, cell: int = 4, radius: float = 8.0) -> np.ndarray:
    """The preview before issue 14 (restated; see the module docstring): a backward warp through a
    Shepard-interpolated displacement field, every track treated as visible."""
    xy = tracks.xy.astype(np.float64)
    gh, gw = -(-H // cell), -(-W // cell)
    gx, gy = np.meshgrid((np.arange(gw) + 0.5) * cell - 0.5, (np.arange(gh) + 0.5) * cell - 0.5)
    grid = np.stack([gx.ravel(), gy.ravel()], -1)
    g2 = (grid**2).sum(1)[:, None]
    bx, by = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    out = np.empty((T, H, W, 3), np.uint8)
    out[0] = image
    for t in range(1, T):
        tgt, disp = xy[t], xy[0] - xy[t]
        num, den = np.zeros((len(grid), 2)), np.zeros(len(grid))
        for s in range(0, len(tgt), 256):
            d2 = np.maximum(g2 + (tgt[s:s + 256]**2).sum(1)[None] - 2 * grid @ tgt[s:s + 256].T, 0) + radius**2
            k = 1.0 / (d2 * d2)
            num += k @ disp[s:s + 256]
            den += k.sum(1)
        field = (num / den[:, None]).reshape(gh, gw, 2).astype(np.float32)
        big = cv2.resize(field, (gw * cell, gh * cell))[:H, :W]
        out[t] = cv2.remap(image, bx + big[..., 0], by + big[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def _child(fn: Callable[[], object], queue: mp.Queue) -> None:
    base = reset_peak()
    start = time.perf_counter()
    fn()
    queue.put((time.perf_counter() - start, (rss_kib("VmHWM:") - base) / 1024))


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    """(seconds, peak MiB above the start) of ``fn`` in a forked child."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def demo_inputs() -> tuple[np.ndarray, np.ndarray, object, Tracks, np.ndarray]:
    from trajkit.author.grammar import parse_moves
    from trajkit.bridge import add_camera_motion, camera_to_tracks
    from trajkit.evaluate.scenes import DemoScene

    scene = DemoScene()
    camera = parse_moves("dolly in 1.5m over 5s while pan right 8deg over 5s").path(fps=16, size=scene.size, hfov=60)
    truth, depth = scene.render(camera)
    ball = add_camera_motion(scene.ball_track(T, 16), camera, depth=depth)
    bridged = Tracks.concatenate([ball, camera_to_tracks(camera, depth=depth, grid=8)])
    return truth, depth, camera, ball, bridged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--skip-old", action="store_true", help="skip the old backend (slow at 1000 tracks)")
    parser.add_argument("--skip-overlay", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}, numpy {np.__version__}, opencv {cv2.__version__}; {T} frames at {W}×{H}")
    from trajkit.evaluate.frames import compare_videos
    from trajkit.evaluate.scenes import sprite_scene

    image = noise_image(seed=1)
    print(f"{'case':>22} | {'old s':>7} {'old MiB':>8} | {'new s':>7} {'new MiB':>8} | old/new")
    for n in args.tracks:
        tracks = random_tracks(n)
        new = measure(lambda: render_preview(image, tracks))  # noqa: B023
        old = (np.nan, np.nan) if args.skip_old else measure(lambda: old_preview(image, tracks))  # noqa: B023
        label = f"{n} tracks"
        print(f"{label:>22} | {old[0]:7.2f} {old[1]:8.0f} | {new[0]:7.2f} {new[1]:8.0f} | {old[0] / new[0]:6.1f}×")
    truth, depth, camera, ball, bridged = demo_inputs()
    new = measure(lambda: render_preview(truth[0], ball, camera=camera, depth=depth))
    old = (np.nan, np.nan) if args.skip_old else measure(lambda: old_preview(truth[0], bridged))
    print(f"{'camera+depth (demo)':>22} | {old[0]:7.2f} {old[1]:8.0f} | {new[0]:7.2f} {new[1]:8.0f} | "
          f"{old[0] / new[0]:6.1f}×   (old: the camera bridged to 8×8 tracks + the ball)")
    ours = compare_videos(render_preview(truth[0], ball, camera=camera, depth=depth).frames, truth)
    theirs = compare_videos(old_preview(truth[0], bridged), truth)
    print(f"demo vs ray-cast truth: new PSNR {ours['psnr_mean']:.2f} dB SSIM {ours['ssim_mean']:.4f}; "
          f"old PSNR {theirs['psnr_mean']:.2f} dB SSIM {theirs['ssim_mean']:.4f}")
    sprite, tracks, mask0 = sprite_scene(size=(W, H), frames=T, shift=(260.0, 60.0), radius=80.0)
    ours_v = render_preview(sprite[0], tracks).frames
    old_v = old_preview(sprite[0], tracks)
    for name, video in (("new", ours_v), ("old", old_v)):
        fig = compare_videos(video, sprite)
        ghost = np.abs(video[-1].astype(int) - sprite[-1].astype(int))[mask0].mean()
        print(f"sprite scene {W}×{H}, {name}: PSNR {fig['psnr_mean']:.2f} dB, SSIM {fig['ssim_mean']:.4f}, "
              f"MAE at the sprite's start (last frame) {ghost:.1f}/255")
    if not args.skip_overlay:
        run_overlay([50, 1000], [12, 51], repeat=1)


if __name__ == "__main__":
    main()
