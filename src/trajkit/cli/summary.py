"""Human- and script-readable summaries of anything ``trajkit.load`` returns."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.rotations import rotation_angle
from ..core.tracks import Tracks
from ..formats import documents as docs


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def summarise_tracks(t: Tracks) -> dict[str, Any]:
    """Frames, fps, canvas, track count, visibility and extent of ``Tracks``."""
    vis_frames = t.visible.sum(axis=0)
    pts = t.xy[t.visible] if t.visible.any() else t.xy.reshape(-1, 2)
    out: dict[str, Any] = {
        "type": "tracks",
        "frames": t.num_frames,
        "fps": _r(t.fps),
        "duration_s": _r(t.duration),
        "canvas": None if t.size is None else list(t.size),
        "tracks": t.num_tracks,
        "visible_frames_per_track": [int(v) for v in vis_frames],
        "static_tracks": int((np.ptp(t.xy, axis=0).max(axis=-1) < 1e-6).sum()),
        "x_range": [_r(pts[:, 0].min(), 2), _r(pts[:, 0].max(), 2)],
        "y_range": [_r(pts[:, 1].min(), 2), _r(pts[:, 1].max(), 2)],
    }
    if t.size is not None:
        vis = t.visible.sum()
        out["visible_points_outside_canvas"] = int(vis - t.in_canvas().sum())
    return out


def summarise_camera(c: CameraPath) -> dict[str, Any]:
    """Frames, fps, canvas, intrinsics, travel and rotation of a ``CameraPath``."""
    K = c.Ks[0]
    centres = c.centers
    rel = c.R[0].T @ c.R
    return {
        "type": "camera",
        "frames": c.num_frames,
        "fps": _r(c.fps),
        "duration_s": _r(c.duration),
        "canvas": list(c.size),
        "fx_fy": [_r(K[0, 0]), _r(K[1, 1])],
        "cx_cy": [_r(K[0, 2]), _r(K[1, 2])],
        "hfov_deg": _r(np.degrees(2 * np.arctan(c.size[0] / (2 * K[0, 0]))), 2),
        "per_frame_intrinsics": c.K.ndim == 3,
        "metric": c.metric,
        "units": "m" if c.metric else "unknown scale",
        "max_distance_from_start": _r(np.linalg.norm(centres - centres[0], axis=-1).max(), 4),
        "path_length": _r(np.linalg.norm(np.diff(centres, axis=0), axis=-1).sum(), 4),
        "max_rotation_from_start_deg": _r(np.degrees(rotation_angle(rel)).max(), 2),
        "rotation_start_to_end_deg": _r(np.degrees(rotation_angle(rel[-1])), 2),
    }


def summarise_entities(e: EntityPaths) -> dict[str, Any]:
    """Entities, frames, prompts, path lengths and the viewing camera of ``EntityPaths``."""
    pos = e.positions
    return {
        "type": "entities",
        "entities": e.num_entities,
        "frames": e.num_frames,
        "fps": _r(e.fps),
        "duration_s": _r(e.duration),
        "prompts": list(e.prompts),
        "path_length_per_entity": [_r(x, 3) for x in np.linalg.norm(np.diff(pos, axis=1), axis=-1).sum(axis=1)],
        "camera": None if e.camera is None else summarise_camera(e.camera),
    }


def summarise(obj: Any) -> dict[str, Any]:
    """A JSON-able summary of a loaded object (core type or document)."""
    if isinstance(obj, Tracks):
        return summarise_tracks(obj)
    if isinstance(obj, CameraPath):
        return summarise_camera(obj)
    if isinstance(obj, EntityPaths):
        return summarise_entities(obj)
    if isinstance(obj, docs.CameraSet):
        first = next(iter(obj.cameras.values()))
        return {"type": "camera set", "cameras": len(obj.cameras), "names": obj.names,
                "frames": first.num_frames, "first_camera": summarise_camera(first)}
    if isinstance(obj, docs.AtiExamples):
        return {"type": "ATI examples", "entries": len(obj),
                "items": [{"image": str(i.image), "text": i.text[:80], "tracks": i.tracks.num_tracks,
                           "frames": i.tracks.num_frames, "canvas": list(i.tracks.size or ())} for i in obj.items]}
    if isinstance(obj, docs.CameraCaption):
        return {"type": "camera caption", "movement": obj.movement, "concise_interaction": obj.concise_interaction,
                "detailed_interaction": obj.detailed_interaction}
    if isinstance(obj, docs.PromptList):
        return {"type": "prompt list", "prompts": len(obj), "first": obj.items[:3]}
    if isinstance(obj, docs.TrajMasterTestSets):
        counts: dict[int, int] = {}
        for case in obj.cases:
            counts[len(case.entity_prompts)] = counts.get(len(case.entity_prompts), 0) + 1
        return {"type": "3DTrajMaster test sets", "cases": len(obj),
                "cases_by_entity_count": {str(k): v for k, v in sorted(counts.items())}}
    if isinstance(obj, docs.LocationData):
        return {"type": "3DTrajMaster location data", "locations": list(obj.targets),
                "targets_cm": {k: [_r(x, 2) for x in v] for k, v in obj.targets.items()}}
    texts = getattr(obj, "texts", None)
    if isinstance(texts, dict):
        return {"type": "3DTrajMaster character info", "characters": len(texts)}
    return {"type": type(obj).__name__}
