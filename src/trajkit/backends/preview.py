"""``preview``: a CPU animatic that moves the parts of the first frame the controls move. No weights, no diffusion.

What a frame is made of (array coordinates inside, canvas pixels at the edges; see :mod:`.warp.splat`):

* **Background.** Without a camera the background stays where it is. With a camera path it is the first
  frame's point cloud (its depth map, or a fronto-parallel plane at ``distance`` without one) re-rendered in
  every frame through the path (:mod:`.warp.reproject`), z-buffered — exact for a static scene. Tracks play
  no part in it, so tracks that leave the canvas cannot make the video jump back to the first frame.
* **Objects.** Tracks that move against the background (all moving tracks without a camera; with one, those
  whose motion differs from what the camera alone does to their start point) carry a region of the first
  frame: GrabCut seeded by the tracks, static tracks as background seeds (:mod:`.warp.regions`). The region is a
  mesh deformed by moving least squares with similarity transforms (Schaefer et al. 2006) so it moves locally
  rigidly, static tracks inside it pin it, and no mesh cell ever folds (:mod:`.warp.mesh`). With a camera the
  mesh first follows the camera at the tracks' depth, then the tracks' own motion. Objects are drawn in front
  of the background they started on.
* **What was behind.** The region is cut out of the background and inpainted once (a *plate*), so a moved
  object leaves background at its old place, never a copy of itself; whatever no source pixel reaches in a
  frame (disocclusions of a camera move, content entering at the edges) is inpainted per frame (:mod:`.warp.fill`).

Alongside the frames the render keeps a per-pixel **valid mask**: true where a pixel shows first-frame content
moved by the controls, false where it was filled. The runner writes it as ``mask.mp4``; it is the "motion video +
mask" that training-free guidance (Time-to-Move) consumes. This is an honest animatic for checking a motion in
seconds, not a generative model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..core.camera import CameraPath
from ..core.errors import ValidationError
from ..core.tracks import Tracks
from .base import GeneratedVideo, GenerationRequest, Progress, no_progress
from .warp.scene import PreviewScene, build_scene


@dataclass(frozen=True, eq=False)
class PreviewRender:
    """``frames (T, H, W, 3)`` uint8, ``valid (T, H, W)`` bool (pixel moved from the first frame, not filled), and
    what the render measured (``info``: region size, folded cells, unfold passes, …)."""

    frames: np.ndarray
    valid: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def render_preview(image: np.ndarray, tracks: Tracks | None = None, *, camera: CameraPath | None = None,
                   depth: np.ndarray | None = None, distance: float | None = None, cell: int = 8,
                   neighbours: int = 12, region: float | None = None, segment: bool = True,
                   progress: Progress = no_progress) -> PreviewRender:
    """Animate ``image (H, W, 3)`` uint8 by ``tracks`` (object motion, on the image's canvas) and/or ``camera``.

    ``tracks`` with a ``camera`` are object tracks as the moving camera sees them (camera motion composed in, as
    :func:`trajkit.bridge.add_camera_motion` makes them); static-in-the-world tracks among them are anchors.
    ``depth``: the first frame's camera-space depth (any resolution with the canvas's aspect); without it the
    camera sees a plane ``distance`` away (default 3 m for metric paths, else 3× the camera's travel).
    ``cell``: mesh spacing in px; ``neighbours``: tracks each mesh vertex listens to; ``region``: radius in px of
    the area a moving track carries before segmentation (default 10 % of the shorter side); ``segment=False``
    uses those discs as they are instead of GrabCut.
    """
    scene = build_scene(image, tracks, camera=camera, depth=depth, distance=distance, cell=cell,
                        neighbours=neighbours, region=region, segment=segment)
    return render_scene(scene, progress)


def render_scene(scene: PreviewScene, progress: Progress = no_progress, workers: int | None = None) -> PreviewRender:
    """Render every frame of a prepared scene. Frames are independent: ``workers`` threads (default one per core, at
    most 4) render them side by side; numpy and OpenCV release the GIL in their heavy loops. (Not processes: forking
    after OpenCV has started its thread pool can hang the child.)"""
    import os
    from concurrent.futures import ThreadPoolExecutor

    h, w = scene.image.shape[:2]
    frames = np.empty((scene.num_frames, h, w, 3), dtype=np.uint8)
    valid = np.empty((scene.num_frames, h, w), dtype=bool)
    frames[0], valid[0] = scene.image, True
    progress(1, scene.num_frames)
    count = min(workers or os.cpu_count() or 1, 4, max(scene.num_frames - 1, 1))
    with ThreadPoolExecutor(max_workers=count) as pool:
        for done, (t, (frame, ok, mesh)) in enumerate(
                zip(range(1, scene.num_frames), pool.map(scene.frame, range(1, scene.num_frames)), strict=True),
                start=2):
            frames[t], valid[t] = frame, ok
            scene.record(mesh)
            progress(done, scene.num_frames)
    return PreviewRender(frames=frames, valid=valid, info=scene.summary())


class PreviewBackend:
    """The ``preview`` backend: CPU, no weights; needs an image, and tracks and/or a camera."""

    name = "preview"
    options: ClassVar[dict[str, str]] = {
        "cell": "mesh spacing in px (default 8; smaller = finer deformation, slower)",
        "neighbours": "tracks each mesh vertex follows (default 12)",
        "region": "radius in px a moving track carries before segmentation (default 10% of the shorter side)",
        "segment": "true: cut regions along image edges with GrabCut (default); false: plain discs",
    }

    def generate(self, request: GenerationRequest, progress: Progress = no_progress) -> GeneratedVideo:
        if request.image is None:
            raise ValidationError("image", "an input image (preview animates a first frame)", "none",
                                  where="preview")
        unknown = set(request.options) - set(self.options)
        if unknown:
            raise ValidationError("options", f"preview options {sorted(self.options)}", str(sorted(unknown)),
                                  where="preview")
        tracks = request.object_tracks if request.camera is not None else request.tracks
        if tracks is None and request.camera is None:
            frames = np.repeat(np.asarray(request.image)[None], request.frames, axis=0)
            return GeneratedVideo(frames=frames, fps=request.fps, info={"backend": self.name, "note": "no motion"},
                                  valid=np.ones(frames.shape[:3], bool))
        opts: dict[str, Any] = dict(request.options)
        result = render_preview(request.image, tracks, camera=request.camera, depth=request.depth,
                                progress=progress, **opts)
        return GeneratedVideo(frames=result.frames, fps=request.fps, valid=result.valid,
                              info={"backend": self.name, **opts, **result.info})
