"""Preview renders in the background: the project's tracks become a trajkit job (the same job file the ``job`` export
writes) run by the job runner with the ``preview`` backend, one render at a time, with progress the page polls."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..core.errors import TrajkitError
from ..formats._io import atomic_write_text
from .exports import job_yaml, project_tracks
from .workspace import Project, StudioError, check_id

RenderFile = Literal["video.mp4", "overlay.mp4", "input.jpg"]
#: Files of a render folder the studio serves (nothing else, whatever is asked for), with their media types.
SERVED: dict[RenderFile, str] = {"video.mp4": "video/mp4", "overlay.mp4": "video/mp4", "input.jpg": "image/jpeg"}


@dataclass
class Render:
    id: str
    project: str
    folder: Path
    status: str = "queued"
    done: int = 0
    total: int = 1
    error: str | None = None
    seconds: float | None = None

    def view(self) -> dict[str, Any]:
        files = [name for name in SERVED if (self.folder / "out" / "studio" / name).is_file()] \
            if self.status == "done" else []
        return {"id": self.id, "status": self.status, "done": self.done, "total": self.total, "error": self.error,
                "seconds": self.seconds,
                "files": {name: f"/api/projects/{self.project}/renders/{self.id}/{name}" for name in files}}


class RenderQueue:
    """Runs renders on one worker thread (the preview uses the CPU; one at a time keeps the page responsive)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trajkit-render")
        self._renders: dict[str, Render] = {}
        self._lock = threading.Lock()

    def start(self, project: Project) -> Render:
        from ..formats.native import write_json

        doc = project.document
        tracks = project_tracks(project, doc)  # fails now (409) rather than in the worker
        rid = uuid.uuid4().hex
        folder = project.folder / "renders" / rid
        inputs = folder / "inputs"
        inputs.mkdir(parents=True)
        write_json(tracks, inputs / "tracks.json")
        atomic_write_text(inputs / "job.yaml", job_yaml(doc, str(project.image_path), "tracks.json"))
        render = Render(id=rid, project=project.id, folder=folder, total=doc.frames)
        with self._lock:
            self._renders[rid] = render
        self._pool.submit(self._run, render)
        return render

    def _run(self, render: Render) -> None:
        """The worker: runs the render's job; any failure at all is recorded on the render (the page shows it)."""
        render.status = "running"
        start = time.perf_counter()

        def progress(_name: str, done: int, total: int) -> None:
            render.done, render.total = done, total

        try:
            from ..jobs import load_jobs, run_jobs

            job_file = render.folder / "inputs" / "job.yaml"
            results = run_jobs(load_jobs(job_file), job_file.parent, render.folder / "out", progress=progress)
            if results[0].status != "done":
                raise TrajkitError(results[0].error or "the render failed")
            render.status = "done"
            render.done = render.total
        except Exception as exc:  # the thread boundary: the executor would swallow it and leave "running" forever
            detail = str(exc) if isinstance(exc, TrajkitError) else f"{type(exc).__name__}: {exc}"
            render.status, render.error = "failed", detail
        finally:
            render.seconds = round(time.perf_counter() - start, 2)

    def get(self, pid: str, rid: str) -> Render:
        render = self._renders.get(check_id(rid, "render"))
        if render is None or render.project != pid:
            raise StudioError(404, "no such render")
        return render

    def file(self, pid: str, rid: str, name: RenderFile) -> tuple[Path, str]:
        render = self.get(pid, rid)
        path = render.folder / "out" / "studio" / name
        if render.status != "done" or not path.is_file():
            raise StudioError(404, "not rendered (yet)")
        return path, SERVED[name]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
