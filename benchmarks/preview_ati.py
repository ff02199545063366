"""ATI's six examples through the preview: do the tracked points land where asked, and what does it look like?

For each example of ``../shared/data/ati/test.yaml`` the job is resolved as ``trajkit generate`` resolves it (Wan
canvas, 81 frames) and rendered with the preview backend in memory (no video encoding). Each track visible in
frame 0 is then followed through the rendered frames with OpenCV's pyramidal Lucas–Kanade tracker (frame to frame,
21×21 window, 4 levels) — an independent measurement, not the renderer's own map — and compared with where the track
asks to be, on the frames where it is visible. LK loses points on textureless spots, so a point counts only while
LK's forward–backward error stays under 1 px. Prints the median landing error per example and over all, and writes
a contact sheet of frames 0 / 40 / 80 (one row per example) to ``docs/preview_ati.png``.

Run: python benchmarks/preview_ati.py [--data ../shared/data/ati] [--sheet docs/preview_ati.png]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from trajkit.backends import get_backend
from trajkit.jobs.resolve import resolve_job
from trajkit.jobs.spec import load_jobs


def lk_follow(frames: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(positions (T, P, 2), reliable (T, P))``: frame-to-frame LK with a forward–backward check."""
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    params = {"winSize": (21, 21), "maxLevel": 4}
    pos = [points.astype(np.float32)]
    ok = [np.ones(len(points), bool)]
    for t in range(1, len(frames)):
        prev = pos[-1].reshape(-1, 1, 2)
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(gray[t - 1], gray[t], prev, None, **params)
        back, st2, _ = cv2.calcOpticalFlowPyrLK(gray[t], gray[t - 1], nxt, None, **params)
        fb = np.linalg.norm((back - prev).reshape(-1, 2), axis=-1)
        pos.append(nxt.reshape(-1, 2))
        ok.append(ok[-1] & (st.ravel() == 1) & (st2.ravel() == 1) & (fb < 1.0))
    return np.stack(pos), np.stack(ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/ati")
    parser.add_argument("--sheet", type=Path, default=Path(__file__).resolve().parents[1] / "docs/preview_ati.png")
    args = parser.parse_args()
    backend = get_backend("preview")
    rows, errors = [], []
    for index, spec in enumerate(load_jobs(args.data / "test.yaml")):
        job = resolve_job(spec, args.data, index, "preview")
        start = time.perf_counter()
        video = backend.generate(job.request)
        seconds = time.perf_counter() - start
        tracks = job.request.tracks
        assert tracks is not None
        first = tracks.visible[0]
        seen, reliable = lk_follow(video.frames, tracks.xy[0, first] - 0.5)  # canvas → array coordinates
        asked = tracks.xy[:, first] - 0.5
        use = reliable & tracks.visible[:, first]
        use[0] = False
        err = np.linalg.norm(seen - asked, axis=-1)[use]
        errors.append(err)
        print(f"{job.name:14s} {tracks.num_tracks:2d} tracks, {seconds:5.2f} s: median landing error "
              f"{np.median(err):5.2f} px over {err.size} point-frames (LK reliable on {use[1:].mean():.0%})")
        h = 200
        thumbs = [cv2.resize(video.frames[t], (round(video.frames.shape[2] * h / video.frames.shape[1]), h),
                             interpolation=cv2.INTER_AREA) for t in (0, 40, 80)]
        rows.append(np.concatenate(thumbs, axis=1))
    print(f"all examples: median landing error {np.median(np.concatenate(errors)):.2f} px")
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.sheet), np.ascontiguousarray(sheet[..., ::-1]))
    print(f"contact sheet (frames 0 / 40 / 80): {args.sheet}")


if __name__ == "__main__":
    main()
