"""Camera metrics: how far an estimated camera path (measured from a video) is from the requested one.

Definitions, as the camera-control papers state and their evaluation code computes them:

* **RotErr** — CameraCtrl (He et al., "CameraCtrl: Enabling Camera Control for Text-to-Video Generation", 2024,
  Sec. 4.1): ``Σ_j arccos((tr(R_gen^j R_gt^jᵀ) − 1) / 2)``, the geodesic angle between the generated and the
  requested camera rotation of each frame, summed over frames; both paths relative to their first frame. CamI2V
  (Zheng et al., "CamI2V: Camera-Controlled Image-to-Video Diffusion Model", 2024; ``evaluation/
  glomap_evaluation.py``: ``calc_roterr``) computes the same sum, in radians; here it is in **degrees**.
* **TransErr** — CameraCtrl: ``Σ_j ‖T_gt^j − T_gen^j‖₂`` over the camera translations. An estimated path has no
  scale, so both are first brought to one: CamI2V's relative metric (``TransErr_rel``, ``utils/common.py``:
  ``normalize_t``) expresses each path relative to its first camera (``c2w₀⁻¹ c2w_j``) and divides its
  translations by its own largest ‖t_j‖, i.e. the farthest camera centre from the first is at distance 1. That is
  the **alignment used here** (``"unit"``); ``"none"`` compares raw translations (metric paths).
* **CamMC** — CamI2V's ``CamMC_rel`` (after MotionCtrl, Wang et al. 2024): ``Σ_j ‖[R|t]_gen^j − [R|t]_gt^j‖``, the
  Frobenius norm of the difference of the 3×4 camera-to-world matrices, with the same relative frames and unit
  translations as TransErr.

Every metric is a sum over frames (frame 0, the reference, contributes 0); ``*_per_frame`` divides by the number
of frames. The canvas size and intrinsics play no part (only poses are compared). Paths with different frame
counts are compared on the requested path's frames: the estimated one is resampled over its own duration
(slerp / lerp, :meth:`CameraPath.resample`), i.e. first frame on first frame and last on last.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.camera import CameraPath
from ..core.errors import TrajkitError
from ..core.rotations import rotation_angle

ALIGNMENTS = ("unit", "none")


def _relative(path: CameraPath) -> np.ndarray:
    return path.relative_to_first().c2w


def _matched(requested: CameraPath, estimated: CameraPath) -> tuple[np.ndarray, np.ndarray, bool]:
    """Both paths' relative ``c2w`` on the requested frames, and whether the estimate was resampled."""
    resampled = estimated.num_frames != requested.num_frames
    if resampled:
        if estimated.num_frames < 2:
            raise TrajkitError(f"camera metrics: the estimated path has {estimated.num_frames} frame(s), the "
                               f"requested one {requested.num_frames}; cannot compare")
        estimated = estimated.resample(requested.num_frames)
    return _relative(requested), _relative(estimated), resampled


def _unit(c2w: np.ndarray, alignment: str) -> np.ndarray:
    if alignment not in ALIGNMENTS:
        raise TrajkitError(f"alignment: expected one of {', '.join(ALIGNMENTS)}, got {alignment!r}")
    out = c2w.copy()
    if alignment == "unit":
        reach = float(np.linalg.norm(c2w[:, :3, 3], axis=1).max())
        if reach > 1e-12:
            out[:, :3, 3] /= reach
    return out


def rotation_error(requested: CameraPath, estimated: CameraPath) -> dict[str, Any]:
    """RotErr (CameraCtrl): per-frame geodesic angles in degrees between relative rotations, and their sum."""
    req, est, resampled = _matched(requested, estimated)
    angles = np.degrees(rotation_angle(est[:, :3, :3] @ np.swapaxes(req[:, :3, :3], -1, -2)))
    return {"per_frame_deg": [float(a) for a in angles], "sum_deg": float(angles.sum()),
            "mean_deg": float(angles.mean()), "max_deg": float(angles.max()), "resampled": resampled}


def translation_error(requested: CameraPath, estimated: CameraPath, alignment: str = "unit") -> dict[str, Any]:
    """TransErr: per-frame L2 distances of relative camera translations after ``alignment``, and their sum."""
    req, est, resampled = _matched(requested, estimated)
    dist = np.linalg.norm(_unit(est, alignment)[:, :3, 3] - _unit(req, alignment)[:, :3, 3], axis=1)
    return {"per_frame": [float(d) for d in dist], "sum": float(dist.sum()), "mean": float(dist.mean()),
            "alignment": alignment, "resampled": resampled}


def camera_motion_consistency(requested: CameraPath, estimated: CameraPath, alignment: str = "unit"
                              ) -> dict[str, Any]:
    """CamMC (CamI2V): per-frame Frobenius norms of the 3×4 ``[R|t]`` differences after ``alignment``, summed."""
    req, est, resampled = _matched(requested, estimated)
    diff = _unit(est, alignment)[:, :3, :4] - _unit(req, alignment)[:, :3, :4]
    norms = np.linalg.norm(diff.reshape(len(diff), -1), axis=1)
    return {"per_frame": [float(d) for d in norms], "sum": float(norms.sum()), "mean": float(norms.mean()),
            "alignment": alignment, "resampled": resampled}


def camera_metrics(requested: CameraPath, estimated: CameraPath, alignment: str = "unit") -> dict[str, Any]:
    """All three metrics as JSON-ready floats: ``rot_err_deg`` (sum), ``rot_err_deg_per_frame`` (mean),
    ``rot_err_deg_max``, ``trans_err`` (sum), ``trans_err_per_frame``, ``cam_mc`` (sum), ``cam_mc_per_frame``,
    ``frames``, ``alignment`` and whether the estimate was ``resampled`` to the requested frames."""
    rot = rotation_error(requested, estimated)
    trans = translation_error(requested, estimated, alignment)
    mc = camera_motion_consistency(requested, estimated, alignment)
    return {
        "rot_err_deg": rot["sum_deg"],
        "rot_err_deg_per_frame": rot["mean_deg"],
        "rot_err_deg_max": rot["max_deg"],
        "trans_err": trans["sum"],
        "trans_err_per_frame": trans["mean"],
        "cam_mc": mc["sum"],
        "cam_mc_per_frame": mc["mean"],
        "frames": requested.num_frames,
        "alignment": ("each path relative to its first camera, translations divided by its largest distance "
                      "from it (CamI2V TransErr_rel / CamMC_rel)") if alignment == "unit"
                     else "each path relative to its first camera, translations as they are",
        "resampled": rot["resampled"],
    }
