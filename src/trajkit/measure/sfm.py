"""Camera poses from a video by structure from motion with pycolmap: the ``"colmap"`` method.

Pipeline (pycolmap ≥ 3.12 API, tested with 4.2.1):

1. The frames are written as PNG (lossless) to a work folder, named by index so that COLMAP's order is the video's.
2. ``pycolmap.extract_features``: SIFT on the CPU, one camera shared by all frames (``CameraMode.SINGLE``). With
   a known ``K`` the model is ``PINHOLE`` with those parameters as a prior; without it ``SIMPLE_PINHOLE`` with the
   principal point at the centre and COLMAP's default focal guess (1.2 × the longer side), refined later.
3. ``pycolmap.match_sequential``: each frame against the next 10 and at quadratic steps beyond, no loop
   detection. Two-view verification is tuned for video, as measured on :class:`~trajkit.evaluate.scenes.DemoScene`:
   *watermark detection off* (between neighbouring frames nearly every match barely moves, which COLMAP otherwise
   takes for a watermark and drops the pair), and the essential-matrix model kept even where a homography
   explains most matches (``max_H_inlier_ratio`` 0.999; ``min_E_F_inlier_ratio`` 0.5) — with COLMAP's defaults the
   demo's floor made 85 % of the pairs "planar" and the reconstruction of its preview came out 21° off.
4. ``pycolmap.global_mapping`` (GLOMAP inside COLMAP): rotation averaging, global positioning, bundle adjustment.
   On the demo it registered all 81 frames at 0.16–0.26° RotErr per frame in ~5–9 s, where
   ``incremental_mapping`` took ~30 s and initialised from the floor's wrong planar twin (4–22° off). Intrinsics
   stay fixed when ``K`` is given (``refine_focal_length`` off); otherwise the shared focal is refined. Seeds are
   fixed, yet multi-threaded matching and mapping still make runs differ a little — and not always a little: on
   the demo's true video cut to 41 frames one run in two fell into the floor's wrong twin (8° off), which is why
   ``auto`` (:mod:`.camera`) checks COLMAP's path against independent tracks.
5. The largest reconstruction is kept. COLMAP's ``cam_from_world`` is world-to-camera in OpenCV axes already;
   its inverse is the camera-to-world pose. Frames it could not register are interpolated between registered
   neighbours (slerp / lerp) or, before the first / after the last registered frame, hold that frame's pose;
   fewer than half registered is an error.

COLMAP's pixel convention (the top-left pixel's centre at ``(0.5, 0.5)``) is trajkit's, so ``K`` passes unchanged.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..core.camera import interpolate_poses
from ..core.errors import TrajkitError

#: Each frame is matched with the next ``OVERLAP`` frames (and at quadratic steps further on).
OVERLAP = 10
SEED = 0
FIRST_OCTAVE = -1


def _pycolmap() -> ModuleType:
    try:
        import pycolmap
    except ImportError as exc:  # pragma: no cover - pycolmap is a dependency of the measure extra
        raise TrajkitError("camera estimation with method 'colmap' needs pycolmap: pip install pycolmap "
                           "(or pass --method essential)") from exc
    return pycolmap


def _write_frames(video: np.ndarray, folder: Path) -> list[str]:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, frame in enumerate(video):
        name = f"{i:06d}.png"
        if not cv2.imwrite(str(folder / name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            raise TrajkitError(f"camera estimation: could not write frame {i} to {folder}")
        names.append(name)
    return names


def _options(pycolmap: ModuleType, K: np.ndarray | None) -> tuple[Any, Any, Any, Any, Any]:
    reader = pycolmap.ImageReaderOptions()
    if K is not None:
        reader.camera_model = "PINHOLE"
        reader.camera_params = ",".join(f"{v:.10g}" for v in (K[0, 0], K[1, 1], K[0, 2], K[1, 2]))
    else:
        reader.camera_model = "SIMPLE_PINHOLE"
    pairing = pycolmap.SequentialPairingOptions()
    pairing.overlap = OVERLAP
    pairing.quadratic_overlap = True
    pairing.loop_detection = False
    verify = pycolmap.TwoViewGeometryOptions()
    verify.detect_watermark = False
    verify.max_H_inlier_ratio = 0.999
    verify.min_E_F_inlier_ratio = 0.5
    verify.ransac.max_error = 2.0
    verify.ransac.random_seed = SEED
    mapper = pycolmap.GlobalPipelineOptions()
    mapper.random_seed = SEED
    ba = mapper.mapper.bundle_adjustment
    ba.refine_focal_length = K is None
    ba.refine_principal_point = False
    ba.refine_extra_params = False
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.sift.first_octave = FIRST_OCTAVE
    return reader, extraction, pairing, verify, mapper


def estimate_sfm(video: np.ndarray, K: np.ndarray | None, workdir: str | Path | None = None,
                 progress: Callable[[str, int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(c2w (T, 4, 4) relative to frame 0, K (3, 3), info)`` by SfM; see the module docstring.

    ``workdir``: where the frames and the COLMAP database go (kept); default a temporary folder, removed after.
    """
    pycolmap = _pycolmap()
    report = progress or (lambda stage, done, total: None)
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="trajkit-sfm-") as tmp:
            return _run(pycolmap, video, K, Path(tmp), report)
    return _run(pycolmap, video, K, Path(workdir), report)


def _run(pycolmap: ModuleType, video: np.ndarray, K: np.ndarray | None, work: Path,
         report: Callable[[str, int, int], None]) -> tuple[np.ndarray, np.ndarray, dict]:
    T = len(video)
    images, database, out = work / "images", work / "database.db", work / "sparse"
    if database.exists():
        database.unlink()  # a stale database from an earlier run would mix two videos
    out.mkdir(parents=True, exist_ok=True)
    reader, extraction, pairing, verify, mapper = _options(pycolmap, K)
    level = pycolmap.logging.minloglevel
    pycolmap.logging.minloglevel = 3  # COLMAP logs every step; its failures reach the user as TrajkitError
    try:
        report("features", 0, T)
        names = _write_frames(video, images)
        pycolmap.extract_features(database, images, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
                                  reader_options=reader, extraction_options=extraction,
                                  device=pycolmap.Device.cpu)
        report("features", T, T)
        report("matching", 0, 1)
        pycolmap.match_sequential(database, pairing_options=pairing, verification_options=verify,
                                  device=pycolmap.Device.cpu)
        report("matching", 1, 1)
        report("mapping", 0, 1)
        recs = pycolmap.global_mapping(database, images, out, options=mapper)
        report("mapping", 1, 1)
    except Exception as exc:  # any COLMAP failure becomes one user-facing error
        raise TrajkitError(f"SfM failed in COLMAP: {exc}") from exc
    finally:
        pycolmap.logging.minloglevel = level
    if not recs:
        raise TrajkitError("SfM failed: COLMAP built no reconstruction (no features matched between frames)")
    rec = max(recs.values(), key=lambda r: r.num_reg_images())
    index = {name: i for i, name in enumerate(names)}
    w2c = {}
    for image in rec.images.values():
        if image.has_pose and image.name in index:
            m = np.eye(4)
            m[:3] = image.cam_from_world().matrix()
            w2c[index[image.name]] = m
    registered = sorted(w2c)
    if len(registered) < max(2, (T + 1) // 2):
        raise TrajkitError(f"SfM failed: COLMAP registered only {len(registered)} of {T} frames (fewer than half)")
    c2w_reg = np.linalg.inv(np.stack([w2c[i] for i in registered]))
    # Fractional positions among the registered frames: interpolate between them, hold beyond the ends.
    pos = np.interp(np.arange(T), registered, np.arange(len(registered)))
    c2w = interpolate_poses(c2w_reg, pos)
    c2w = np.linalg.inv(c2w[0]) @ c2w
    cam = rec.cameras[next(iter(rec.cameras))]
    fx, fy, cx, cy = _intrinsics(cam)
    K_out = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    missing = sorted(set(range(T)) - set(registered))
    info = {
        "registered_frames": len(registered),
        "unregistered_frames": missing,
        "held_frames": [i for i in missing if i < registered[0] or i > registered[-1]],
        "mean_reprojection_error_px": float(rec.compute_mean_reprojection_error()),
        "points3D": int(rec.num_points3D()),
        "reconstructions": len(recs),
        "mapper": "pycolmap.global_mapping",
        "pycolmap": getattr(pycolmap, "__version__", "?"),
    }
    return c2w, K_out, info


def _intrinsics(cam: Any) -> tuple[float, float, float, float]:
    p = np.asarray(cam.params, dtype=np.float64)
    if str(cam.model).endswith("SIMPLE_PINHOLE"):
        return float(p[0]), float(p[0]), float(p[1]), float(p[2])
    return float(p[0]), float(p[1]), float(p[2]), float(p[3])
