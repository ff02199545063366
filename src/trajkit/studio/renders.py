"""Preview renders in the background: the project's tracks become a trajkit job (the same job file the ``job`` export
writes) run by the job runner with the ``preview`` backend, one render at a time, with progress the page polls.

The queue is bounded: at most ``max_queued`` renders wait (another start is refused with 429), a new render of a
project supersedes that project's waiting one (its status becomes ``superseded``; a running render is never
stopped), and only the newest ``keep`` renders of a project are kept — older folders are deleted, and their ids
answer 404. Finished renders survive a restart (:meth:`RenderQueue.recover`); unfinished ones are removed.
"""

from __future__ import annotations

import itertools
import shutil
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..core.errors import TrajkitError
from ..formats._io import atomic_write_text
from .exports import job_yaml, project_tracks
from .workspace import ID_PATTERN, Project, StudioError, check_id

RenderFile = Literal["video.mp4", "overlay.mp4", "input.jpg"]
#: Files of a render folder the studio serves (nothing else, whatever is asked for), with their media types.
SERVED: dict[RenderFile, str] = {"video.mp4": "video/mp4", "overlay.mp4": "video/mp4", "input.jpg": "image/jpeg"}
MAX_QUEUED = 8
KEEP_RENDERS = 3
#: Statuses of a render that will not change any more.
FINAL = ("done", "failed", "superseded")


@dataclass
class Render:
    id: str
    project: str
    folder: Path
    order: int = 0
    status: str = "queued"
    done: int = 0
    total: int = 1
    error: str | None = None
    seconds: float | None = None
    future: Future[None] | None = field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        files = [name for name in SERVED if (self.folder / "out" / "studio" / name).is_file()] \
            if self.status == "done" else []
        return {"id": self.id, "status": self.status, "done": self.done, "total": self.total, "error": self.error,
                "seconds": self.seconds,
                "files": {name: f"/api/projects/{self.project}/renders/{self.id}/{name}" for name in files}}


class RenderQueue:
    """Runs renders on one worker thread (the preview uses the CPU; one at a time keeps the page responsive)."""

    def __init__(self, max_queued: int = MAX_QUEUED, keep: int = KEEP_RENDERS) -> None:
        if max_queued < 1 or keep < 1:
            raise TrajkitError(f"a render queue needs max_queued ≥ 1 and keep ≥ 1 (found {max_queued}, {keep})")
        self.max_queued, self.keep = max_queued, keep
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trajkit-render")
        self._renders: dict[str, Render] = {}
        self._lock = threading.Lock()
        self._order = itertools.count()

    def recover(self, projects: Path) -> None:
        """Take over the renders a previous server left under ``projects/<id>/renders/``: finished ones are served
        again (oldest first in the keep order), unfinished ones (the server stopped mid-render) are deleted."""
        found = []
        for folder in projects.glob("*/renders/*"):
            if not (folder.is_dir() and ID_PATTERN.fullmatch(folder.name) and ID_PATTERN.fullmatch(
                    folder.parent.parent.name)):
                continue
            if (folder / "out" / "studio" / "video.mp4").is_file():
                found.append((_started(folder), folder))
            else:
                shutil.rmtree(folder, ignore_errors=True)
        with self._lock:
            for _, folder in sorted(found):
                render = Render(id=folder.name, project=folder.parent.parent.name, folder=folder,
                                order=next(self._order), status="done")
                self._renders[render.id] = render
            for pid in {r.project for r in self._renders.values()}:
                self._prune(pid)

    def start(self, project: Project) -> Render:
        """Queue a render of the saved project (409 without tracks, 429 when the queue is full)."""
        from ..formats.native import write_json

        doc = project.document
        tracks = project_tracks(project, doc)  # fails now (409) rather than in the worker
        with self._lock:
            for old in self._renders.values():
                if old.project == project.id and old.status == "queued":
                    old.status, old.error = "superseded", "a newer render of this project replaced it"
                    if old.future is not None:
                        old.future.cancel()
                    shutil.rmtree(old.folder, ignore_errors=True)
            waiting = sum(r.status == "queued" for r in self._renders.values())
            if waiting >= self.max_queued:
                raise StudioError(429, f"{waiting} renders are waiting already (at most {self.max_queued}); try "
                                       "again when one has finished")
            rid = uuid.uuid4().hex
            folder = project.folder / "renders" / rid
            inputs = folder / "inputs"
            inputs.mkdir(parents=True)
            write_json(tracks, inputs / "tracks.json")
            atomic_write_text(inputs / "job.yaml", job_yaml(doc, str(project.image_path), "tracks.json"))
            render = Render(id=rid, project=project.id, folder=folder, order=next(self._order), total=doc.frames)
            self._renders[rid] = render
            self._prune(project.id)
            render.future = self._pool.submit(self._run, render)
        return render

    def _prune(self, pid: str) -> None:
        """Delete the project's renders beyond its newest ``keep`` (never a queued or running one), and forget its
        superseded renders beyond the newest ``keep`` of those (they have no files). The caller holds the lock."""
        mine = sorted((r for r in self._renders.values() if r.project == pid), key=lambda r: r.order)
        for group in ([r for r in mine if r.status != "superseded"], [r for r in mine if r.status == "superseded"]):
            finished = [r for r in group if r.status in FINAL]
            for render in finished[:max(len(group) - self.keep, 0)]:
                del self._renders[render.id]
                shutil.rmtree(render.folder, ignore_errors=True)

    def _run(self, render: Render) -> None:
        """The worker: runs the render's job; any failure at all is recorded on the render (the page shows it)."""
        with self._lock:
            if render.status != "queued":  # superseded while it waited
                return
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
            with self._lock:
                self._prune(render.project)

    def get(self, pid: str, rid: str) -> Render:
        render = self._renders.get(check_id(rid, "render"))
        if render is None or render.project != pid:
            raise StudioError(404, "no such render (renders beyond the newest few of a project are deleted)")
        return render

    def list(self, pid: str) -> list[Render]:
        """The project's renders, newest first (superseded ones left out)."""
        return sorted((r for r in list(self._renders.values()) if r.project == pid and r.status != "superseded"),
                      key=lambda r: -r.order)

    def file(self, pid: str, rid: str, name: RenderFile) -> tuple[Path, str]:
        render = self.get(pid, rid)
        path = render.folder / "out" / "studio" / name
        if render.status != "done" or not path.is_file():
            raise StudioError(404, "not rendered (yet)")
        return path, SERVED[name]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _started(folder: Path) -> float:
    """When a render folder's job was written (its order among a project's renders)."""
    try:
        return (folder / "inputs" / "job.yaml").stat().st_mtime
    except OSError:
        return folder.stat().st_mtime
