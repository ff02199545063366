"""``trajkit evaluate``: measure a finished job's video and compare it with the controls it was asked to follow.

For a job folder (see :mod:`trajkit.jobs.runner`) this reads ``job.json``, ``video.mp4`` and ``controls/`` and:

* tracks the video from each requested track's first visible position (``controls/tracks.json``; tracker ``lk`` by
  default) and scores the result per track group — the job's own tracks, the camera's bridged grid, each entity —
  with :func:`trajkit.evaluate.tracks.track_metrics` and :func:`trajkit.evaluate.entities.entity_adherence`;
* estimates the camera from the video (``controls/camera.json`` requested; the requested intrinsics are taken as
  known) and scores it with :func:`trajkit.evaluate.camera.camera_metrics`;
* writes ``metrics.json``, ``measured/tracks.json``, ``measured/camera.json``, ``evaluation.mp4`` (requested vs
  measured tracks on the video), ``epe.png`` and ``camera_eval.png``, and redraws ``report.html`` with a metrics
  section. Each file is written atomically; a failure leaves the job's earlier outputs as they were.

Folders from before track groups were recorded are scored as one group.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath
from ..core.errors import TrajkitError
from ..core.tracks import Tracks
from ..formats._io import atomic_write_text, dump_json

#: ``progress(stage, done, total)``: stages "video", "tracks", "camera", "outputs".
Progress = Callable[[str, int, int], None]


def load_record(folder: Path) -> dict[str, Any]:
    """``folder/job.json`` as a dict (a :class:`TrajkitError` naming the folder if it is not a finished job)."""
    path = folder / "job.json"
    if not path.is_file():
        raise TrajkitError(f"{folder}: not a finished job folder (no job.json)")
    if path.stat().st_size > 64 << 20:
        raise TrajkitError(f"{path}: larger than 64 MiB; not a trajkit job record")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        record["resolved"]["size"], record["resolved"]["frames"], record["resolved"]["fps"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrajkitError(f"{path}: not a trajkit job record ({exc})") from exc
    return record


def _load_control(path: Path, kind: type) -> Any:
    from ..formats.native import read_json_control

    if not path.is_file():
        return None
    obj = read_json_control(path)
    if not isinstance(obj, kind):
        raise TrajkitError(f"{path}: holds a {type(obj).__name__}, expected {kind.__name__}")
    return obj


def evaluate_job(folder: str | Path, *, tracker: str = "lk", camera: bool = True, checkpoint: str | Path | None = None,
                 download: bool = False, device: str = "cpu", progress: Progress | None = None) -> dict[str, Any]:
    """Evaluate one job folder (see the module docstring); return the metrics written to ``metrics.json``."""
    from ..measure.video import read_video

    folder = Path(folder)
    record = load_record(folder)
    res = record["resolved"]
    size, frames, fps = tuple(res["size"]), int(res["frames"]), float(res["fps"])
    note = progress or (lambda stage, done, total: None)
    note("video", 0, 1)
    video, _ = read_video(folder / "video.mp4", max_frames=frames)
    if video.shape[0] != frames or (video.shape[2], video.shape[1]) != size:
        raise TrajkitError(f"{folder / 'video.mp4'}: {video.shape[0]} frames of {video.shape[2]}×{video.shape[1]}, "
                           f"but the job made {frames} of {size[0]}×{size[1]}")
    note("video", 1, 1)
    metrics: dict[str, Any] = {"job": record.get("name", folder.name), "backend": res.get("backend"),
                               "tracker": tracker, "frames": frames, "size": list(size), "fps": fps}
    requested = _load_control(folder / "controls" / "tracks.json", Tracks)
    if requested is not None:
        metrics["tracks"] = _evaluate_tracks(folder, video, requested, res.get("track_groups"), tracker, fps,
                                             dict(checkpoint=checkpoint, download=download, device=device), note)
    wanted = _load_control(folder / "controls" / "camera.json", CameraPath)
    if wanted is not None and camera:
        metrics["camera"] = _evaluate_camera(folder, video, wanted, fps, note)
    else:  # figures of an earlier evaluation must not stand beside metrics that no longer have them
        (folder / "camera_eval.png").unlink(missing_ok=True)
        (folder / "measured" / "camera.json").unlink(missing_ok=True)
    note("outputs", 0, 1)
    atomic_write_text(folder / "metrics.json", dump_json(metrics))
    from .report import write_report

    write_report(folder, record)
    note("outputs", 1, 1)
    return metrics


def _groups(recorded: Any, count: int) -> list[tuple[str, str, int, int]]:
    if not recorded:
        return [("tracks", "tracks", 0, count)]
    groups = [(str(k), str(n), int(a), int(b)) for k, n, a, b in recorded]
    if groups[-1][3] != count:
        raise TrajkitError(f"job.json: its track groups cover {groups[-1][3]} tracks, controls/tracks.json has {count}")
    return groups


def _evaluate_tracks(folder: Path, video: np.ndarray, requested: Tracks, recorded: Any, tracker: str, fps: float,
                     tracker_args: dict[str, Any], note: Progress) -> dict[str, Any]:
    from ..evaluate.entities import entity_adherence
    from ..evaluate.tracks import track_metrics
    from ..formats.native import write_json
    from ..measure.queries import tracks_queries
    from ..measure.trackers import track_video
    from ..viz.evaluation import compare_tracks_video, error_plot
    from ..viz.video import write_mp4

    size = (video.shape[2], video.shape[1])
    if requested.num_frames != len(video):
        raise TrajkitError(f"controls/tracks.json: {requested.num_frames} frames, the video {len(video)}")
    requested = requested.with_size(size) if requested.size is None else requested.rescale(size)
    groups = _groups(recorded, requested.num_tracks)
    # Only tracks that start somewhere inside the frame can be tracked; the rest are reported as skipped.
    first = requested.visible.argmax(axis=0)
    start = requested.xy[first, np.arange(requested.num_tracks)]
    usable = requested.visible.any(axis=0) & (start[:, 0] >= 0) & (start[:, 0] <= size[0]) \
        & (start[:, 1] >= 0) & (start[:, 1] <= size[1])
    if not usable.any():
        raise TrajkitError("controls/tracks.json: no track is ever visible inside the frame; nothing to measure")
    keep = np.flatnonzero(usable)
    req = requested.select(keep)
    measured = track_video(video, tracks_queries(req), tracker=tracker, fps=fps,
                           progress=lambda d, t: note("tracks", d, t), **tracker_args)
    out: dict[str, Any] = {"requested": requested.num_tracks, "measured": len(keep),
                           "skipped": int(requested.num_tracks - len(keep)), **track_metrics(req, measured)}
    series = {}
    by_group = []
    entity_groups = []
    for kind, name, a, b in groups:
        local = np.flatnonzero((keep >= a) & (keep < b))
        row: dict[str, Any] = {"kind": kind, "name": name, "tracks": b - a, "measured": len(local)}
        if len(local):
            try:
                sub = track_metrics(req.select(local), measured.select(local))
            except TrajkitError as exc:
                row["error"] = str(exc)
            else:
                row.update({k: sub[k] for k in ("epe_px", "epe_median_px", "delta_avg", "occlusion_accuracy",
                                                 "average_jaccard")})
                label = name if len(name) <= 28 else name[:27] + "…"
                series[f"{label} (median)"] = sub["epe_median_per_frame"]
                series[f"{label} (mean)"] = sub["epe_per_frame"]
                if kind == "entity":
                    entity_groups.append((name, int(local[0]), int(local[-1]) + 1))
        by_group.append(row)
    out["groups"] = by_group
    if entity_groups:
        out["entities"] = entity_adherence(req, measured, entity_groups)
    measured_dir = folder / "measured"
    measured_dir.mkdir(exist_ok=True)
    write_json(measured, measured_dir / "tracks.json")
    write_mp4(folder / "evaluation.mp4", compare_tracks_video(video, req, measured), fps)
    error_plot(series or {"all (median)": out["epe_median_per_frame"]}, fps, folder / "epe.png")
    return out


def _evaluate_camera(folder: Path, video: np.ndarray, wanted: CameraPath, fps: float, note: Progress) -> dict[str, Any]:
    from ..evaluate.camera import camera_metrics
    from ..formats.native import write_json
    from ..measure.camera import estimate_camera
    from ..viz.evaluation import camera_comparison

    size = (video.shape[2], video.shape[1])
    wanted = wanted.rescale(size) if tuple(wanted.size) != size else wanted
    try:
        estimated = estimate_camera(video, fps=fps, K=wanted.Ks[0],
                                    progress=lambda stage, d, t: note(f"camera {stage}", d, t))
    except TrajkitError as exc:
        return {"error": str(exc)}
    meta = estimated.meta
    out = {"method": meta.get("method"), "registered_frames": meta.get("registered_frames", len(video)),
           "unregistered_frames": list(meta.get("unregistered_frames", [])), **camera_metrics(wanted, estimated)}
    (folder / "measured").mkdir(exist_ok=True)
    write_json(estimated, folder / "measured" / "camera.json")
    camera_comparison(wanted, estimated, folder / "camera_eval.png")
    return out


def evaluate_folders(folders: list[Path], **kwargs: Any) -> list[dict[str, Any]]:
    """Evaluate each folder, one failing job not stopping the rest; return one summary row per folder."""
    rows = []
    for folder in folders:
        try:
            rows.append(summary_row(folder, evaluate_job(folder, **kwargs)))
        except TrajkitError as exc:
            rows.append({"job": folder.name, "status": "error", "error": str(exc)})
    return rows


def summary_row(folder: Path, metrics: dict[str, Any]) -> dict[str, Any]:
    """The figures of one job's ``metrics.json`` that go into ``evaluation.csv``."""
    tr = metrics.get("tracks") or {}
    cam = metrics.get("camera") or {}
    ents = [e for e in tr.get("entities", []) if "path_error_px" in e]
    return {
        "job": folder.name, "status": "ok", "backend": metrics.get("backend"), "tracker": metrics.get("tracker"),
        "tracks": tr.get("measured"), "epe_px": tr.get("epe_px"), "epe_median_px": tr.get("epe_median_px"),
        "delta_avg": tr.get("delta_avg"), "occlusion_accuracy": tr.get("occlusion_accuracy"),
        "average_jaccard": tr.get("average_jaccard"),
        "rot_err_deg_per_frame": cam.get("rot_err_deg_per_frame"), "trans_err": cam.get("trans_err"),
        "cam_mc": cam.get("cam_mc"), "camera_error": cam.get("error"),
        "entity_path_error_px": max(e["path_error_px"] for e in ents) if ents else None,
    }
