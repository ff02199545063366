"""The job runner: resolve → render → write one output folder per job, atomically; resume job lists.

Each job writes into ``OUT/.trajkit-tmp/<name>-<pid>/`` and the folder is renamed to ``OUT/<name>/`` only
when everything is written, so an interrupted run never leaves a half-made output folder (stale temporary
folders are removed at the next start). A finished job whose fingerprint (:mod:`.fingerprint`: its spec and
resolved inputs) is unchanged is skipped; a changed one is rendered again and says what changed; a job
that fails gets ``OUT/<name>.failed.json`` with its error and the list goes on.

Folder contents: ``video.mp4``, ``overlay.mp4`` (tracks drawn on the result), ``input.jpg`` (tracks drawn on
the input), ``camera.png`` / ``entities.png`` when those controls exist, ``controls/`` (the resolved
controls in trajkit's native format), ``job.json`` (the resolved job: spec, size, timeline, seed, notes,
versions, timings) and ``report.html``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..backends import get_backend
from ..core.errors import TrajkitError
from ..formats._io import atomic_write_text, dump_json
from .fingerprint import FIELD, describe_change, job_fingerprint
from .report import write_report
from .resolve import ResolvedJob, resolve_job
from .spec import JobSpec

TMP = ".trajkit-tmp"
Progress = Callable[[str, int, int], None]


@dataclass
class JobResult:
    """What happened to one job: ``status`` is ``done``, ``skipped`` or ``failed``."""

    name: str
    status: str
    folder: Path | None = None
    error: str | None = None
    seconds: float = 0.0
    note: str | None = None  # why a finished job was rendered again


def _versions() -> dict[str, str]:
    import cv2

    return {"trajkit": __version__, "numpy": np.__version__, "opencv": cv2.__version__,
            "python": platform.python_version()}


def write_outputs(job: ResolvedJob, frames: np.ndarray, fps: float, folder: Path, timings: dict[str, float],
                  info: dict[str, Any] | None = None, valid: np.ndarray | None = None) -> None:
    """Write every output of a rendered job into ``folder`` (which must exist); ``info`` is what the backend
    reported (recorded in ``job.json`` as ``backend_info``), ``valid`` its per-pixel mask (``mask.mp4``)."""
    import cv2

    from ..formats.native import write_json
    from ..viz.plots import camera_three_view, entities_top_view
    from ..viz.tracks import draw_tracks, overlay_tracks
    from ..viz.video import write_mp4

    req = job.request
    write_mp4(folder / "video.mp4", frames, fps)
    if valid is not None:
        mask = np.repeat((np.asarray(valid, dtype=np.uint8) * 255)[..., None], 3, axis=-1)
        write_mp4(folder / "mask.mp4", mask, fps)
    controls = folder / "controls"
    controls.mkdir()
    if req.tracks is not None:
        write_mp4(folder / "overlay.mp4", overlay_tracks(frames, req.tracks), fps)
        still = draw_tracks(req.image, req.tracks) if req.image is not None else frames[0]
        write_json(req.tracks, controls / "tracks.json")
    else:
        still = frames[0]
    cv2.imwrite(str(folder / "input.jpg"), np.ascontiguousarray(still[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 92])
    if req.camera is not None:
        camera_three_view(req.camera, folder / "camera.png")
        write_json(req.camera, controls / "camera.json")
    if req.entities is not None:
        entities_top_view(req.entities, folder / "entities.png")
        write_json(req.entities, controls / "entities.json")
    record = {
        "name": job.name,
        "spec": job.spec.model_dump(mode="json"),
        "image": None if job.image_path is None else str(job.image_path),
        "resolved": {"size": list(req.size), "frames": req.frames, "fps": req.fps, "seed": req.seed,
                     "backend": job.spec.backend, "tracks": 0 if req.tracks is None else req.tracks.num_tracks,
                     "track_groups": [list(g) for g in job.track_groups]},
        "notes": job.notes,
        "versions": _versions(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "backend_info": dict(info or {}),
        "status": "done",
        FIELD: job_fingerprint(job),
    }
    if job.reference is not None:
        record["reference"] = reference_metrics(job, frames)
    atomic_write_text(folder / "job.json", dump_json(record))
    write_report(folder, record)


def reference_metrics(job: ResolvedJob, frames: np.ndarray) -> dict[str, Any]:
    """PSNR/SSIM of the rendered frames against the job's true video (computed before any video encoding)."""
    from ..evaluate.frames import compare_videos
    from ..evaluate.scenes import SCENES
    from ..viz.video import read_mp4

    req = job.request
    try:
        if isinstance(job.reference, str):
            truth = SCENES[job.reference](req.camera, req.size, req.frames, req.fps)
            source = f"scene:{job.reference}"
        else:
            truth, _ = read_mp4(job.reference, max_frames=req.frames, size=req.size)  # type: ignore[arg-type]
            source = str(job.reference)
        if truth.shape != frames.shape:
            raise TrajkitError(f"the reference has {truth.shape[0]} frames of {truth.shape[2]}×{truth.shape[1]}, "
                               f"the result {frames.shape[0]} of {frames.shape[2]}×{frames.shape[1]}")
        metrics = compare_videos(frames, truth)
    except TrajkitError as exc:
        return {"error": str(exc)}
    return {"source": source, **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}}


def run_one(job: ResolvedJob, out_root: Path, progress: Progress | None = None) -> Path:
    """Render one resolved job into ``out_root/<name>/`` (atomically)."""
    tmp_root = out_root / TMP
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = tmp_root / f"{job.name}-{os.getpid()}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    try:
        start = time.perf_counter()
        backend = get_backend(job.spec.backend)
        total = job.request.frames

        def report(done: int, _total: int) -> None:
            if progress is not None:
                progress(job.name, done, total)

        video = backend.generate(job.request, report)
        rendered = time.perf_counter()
        write_outputs(job, video.frames, video.fps, work, {"render": rendered - start}, dict(video.info),
                      video.valid)
        final = out_root / job.name
        if final.exists():
            shutil.rmtree(final)
        os.replace(work, final)
        return final
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def is_done(folder: Path) -> bool:
    """Whether a job folder is complete (it is only ever renamed into place once complete)."""
    return (folder / "job.json").is_file() and (folder / "video.mp4").is_file()


def clean_stale(out_root: Path) -> None:
    """Remove temporary folders left by interrupted runs."""
    tmp_root = out_root / TMP
    if tmp_root.is_dir():
        shutil.rmtree(tmp_root, ignore_errors=True)


def run_jobs(specs: list[JobSpec], base: Path, out_root: Path, *, backend: str | None = None,
             progress: Progress | None = None, on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Run a job list in order: finished jobs are skipped, failures recorded and the rest go on.

    Every job is resolved (and so validated) before any is rendered, so a bad input stops the run before
    work starts.
    """
    resolved = [resolve_job(spec, base, i, backend) for i, spec in enumerate(specs)]
    names = [r.name for r in resolved]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise TrajkitError(f"field 'name': several jobs would write to the same folder: {sorted(dupes)}")
    out_root.mkdir(parents=True, exist_ok=True)
    clean_stale(out_root)
    results = []
    for job in resolved:
        folder = out_root / job.name
        failed_note = out_root / f"{job.name}.failed.json"
        change = _change(folder, job)
        if is_done(folder) and change is None:
            result = JobResult(job.name, "skipped", folder)
        else:
            start = time.perf_counter()
            try:
                run_one(job, out_root, progress)
                failed_note.unlink(missing_ok=True)
                result = JobResult(job.name, "done", folder, seconds=time.perf_counter() - start,
                                   note=None if change is None else f"rendered again: {change}")
            except (TrajkitError, ValueError, OSError, RuntimeError, MemoryError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                atomic_write_text(failed_note, dump_json({"name": job.name, "error": error}))
                result = JobResult(job.name, "failed", None, error, time.perf_counter() - start)
        results.append(result)
        if on_result is not None:
            on_result(result)
    with contextlib.suppress(OSError):  # leave no empty temporary folder behind
        (out_root / TMP).rmdir()
    return results


def _change(folder: Path, job: ResolvedJob) -> str | None:
    """``None`` when ``folder`` holds this very job finished (or nothing); otherwise what changed."""
    if not is_done(folder):
        return None
    try:
        record = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "its job.json cannot be read"
    if not isinstance(record, dict):
        return "its job.json is not a job record"
    if record.get(FIELD) == job_fingerprint(job):
        return None
    return describe_change(record, job)


def summary(results: list[JobResult]) -> dict[str, Any]:
    """Counts and per-job results as JSON-able data."""
    return {"done": sum(r.status == "done" for r in results), "skipped": sum(r.status == "skipped" for r in results),
            "failed": sum(r.status == "failed" for r in results),
            "jobs": [{"name": r.name, "status": r.status, "folder": None if r.folder is None else str(r.folder),
                      "error": r.error, "note": r.note, "seconds": round(r.seconds, 2)} for r in results]}
