"""Regenerate the small controls bundled with trajkit (src/trajkit/examples/*.json).

Run: python scripts/make_examples.py. The files are trajkit's own synthetic examples (no third-party
data): a few point tracks on an 832×480 canvas and a short camera move.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import trajkit
from trajkit.core.camera import intrinsics_from_fov
from trajkit.core.rotations import axis_angle_to_matrix

OUT = Path(__file__).resolve().parents[1] / "src" / "trajkit" / "examples"


def example_tracks() -> trajkit.Tracks:
    """81 frames at 16 fps: an arc left to right, a static anchor, a point sinking from frame 20 on."""
    t = np.linspace(0.0, 1.0, 81)
    arc = np.stack([200 + 430 * t, 300 - 120 * np.sin(np.pi * t)], axis=-1)
    anchor = np.tile([[620.0, 380.0]], (81, 1))
    sink = np.stack([np.full(81, 300.0), 120 + 200 * np.clip(t - 0.25, 0, None)], axis=-1)
    xy = np.stack([arc, anchor, sink], axis=1)
    visible = np.ones((81, 3), bool)
    visible[:20, 2] = False
    return trajkit.Tracks(xy=xy, visible=visible, size=(832, 480), fps=16, meta={"example": "tracks"})


def example_camera() -> trajkit.CameraPath:
    """49 frames at 8 fps: dolly forward 1 m while panning right by 15°, metric, 720×480."""
    s = 0.5 - 0.5 * np.cos(np.pi * np.linspace(0, 1, 49))  # ease in/out
    c2w = np.tile(np.eye(4), (49, 1, 1))
    c2w[:, :3, :3] = axis_angle_to_matrix(np.radians(15) * s[:, None] * np.array([0.0, 1.0, 0.0]))
    c2w[:, 2, 3] = s
    return trajkit.CameraPath(c2w=c2w, K=intrinsics_from_fov((720, 480), 60.0), size=(720, 480), fps=8,
                              metric=True, meta={"example": "camera"})


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    trajkit.save(example_tracks(), OUT / "tracks.json", indent=None)
    trajkit.save(example_camera(), OUT / "camera.json", indent=None)
    print(f"wrote {OUT}")
