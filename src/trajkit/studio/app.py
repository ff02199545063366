"""The studio's FastAPI app: a JSON API (documented at ``/docs`` and ``/openapi.json``) and the static editor.

Safety (ATI's editor ran Flask's debugger, trusted client paths and accepted any upload from any page):

* state-changing requests must come from the studio's own page: an ``Origin`` other than the server's, or a
  ``Sec-Fetch-Site`` other than ``same-origin``/``none``, is refused (403) — a web page elsewhere cannot post to it;
* ``allowed_hosts`` (set by ``trajkit studio`` when bound to localhost) refuses other ``Host`` headers (DNS
  rebinding); an optional access ``token`` (required by the CLI when bound elsewhere) gates every API call — open
  ``/?token=…`` once and the page keeps it in a same-site, HTTP-only cookie;
* uploads are limited in bytes and pixels, decoded and re-encoded; files are only ever served from server-made
  ids and fixed names; track files go through the safe readers; responses carry a strict content security policy.

Request bodies stop at the upload limit (plus 1 MiB of form) while they stream in, declared length or not
(:mod:`.limits`). Heavy work (decoding and re-encoding uploads, reading track files) runs in the thread pool, never
on the event loop, and so do the sync endpoints; the director loads once, behind a lock (:mod:`.director`).
At start the workspace is cleaned of what an interrupted server left (:meth:`.Workspace.clean`) and finished
renders are taken over (:meth:`.RenderQueue.recover`).
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from .. import __version__
from ..author.entities import IN_VIEW, PARAMETER_LIMITS
from ..core.errors import TrajkitError
from . import director
from .document import (
    Document,
    check_camera_text,
    document_camera,
    document_entities,
    document_tracks,
    document_warnings,
)
from .exports import EXPORTS, ExportFormat, ImportFormat, export, import_tracks
from .limits import BodyLimit
from .projects_api import DOCS_ASSETS, projects_router, swagger_ui_dir
from .renders import KEEP_RENDERS, MAX_QUEUED, RenderFile, RenderQueue
from .workspace import MAX_UPLOAD_BYTES, StudioError, Workspace, check_id, decode_depth, summary

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN_COOKIE = "trajkit_studio"
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
       "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
#: /docs is Swagger UI from local files (fastapi-offline's) started by FastAPI's inline bootstrap script.
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


class SaveBody(BaseModel):
    document: Document
    name: str | None = Field(None, max_length=80)
    revision: int | None = Field(None, ge=0)


class DocumentBody(BaseModel):
    document: Document


class ErrorBody(BaseModel):
    """Every refusal: a message naming what was wrong (and the field, for a bad request body)."""

    detail: str


#: What the studio's routes may refuse with (the same ``{"detail": message}`` body, whichever route).
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in (
        (400, "Unreadable request"), (401, "Access token missing or wrong"), (403, "Cross-site request refused"),
        (404, "No such project, render or file"), (409, "Conflict with the project's state"),
        (413, "Upload or request too large"), (415, "Unsupported file type"), (421, "Host not served here"),
        (422, "Invalid request"), (429, "Too many renders waiting"), (503, "The director could not be loaded"))}


def static_dir() -> Path:
    return Path(str(resources.files("trajkit") / "studio" / "static"))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise StudioError(413, f"the upload is larger than {limit // 2**20} MiB")
    return data


def create_app(workspace: str | Path, *, token: str | None = None, allowed_hosts: list[str] | None = None,
               max_upload: int = MAX_UPLOAD_BYTES, max_queued_renders: int = MAX_QUEUED,
               keep_renders: int = KEEP_RENDERS) -> FastAPI:
    """The studio app over ``workspace`` (see the module docstring for ``token`` and ``allowed_hosts``).

    ``token=None`` means no token; a blank token is refused (:class:`TrajkitError`): it would let anyone in.
    At most ``max_queued_renders`` renders wait at once; the newest ``keep_renders`` of a project are kept.
    """
    if token is not None and not token.strip():
        raise TrajkitError("the studio's access token is blank; give a real token (or none on localhost)")
    ws = Workspace(workspace)  # cleans up after an interrupted server
    queue = RenderQueue(max_queued_renders, keep_renders)
    queue.recover(ws.projects)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        queue.shutdown()

    app = FastAPI(title="trajkit studio", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  responses=ERRORS,
                  description="Author point tracks, camera moves and entity paths on an image; preview and export "
                              "them. All coordinates are original-image pixels.")
    # added before the guard, so it runs inside it: the guard's headers go on its 413 too
    app.add_middleware(BodyLimit, limit=max_upload + 2**20, message=f"request larger than {max_upload // 2**20} MiB")

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        host = request.headers.get("host", "")
        if allowed_hosts is not None and host not in allowed_hosts:
            return _error(421, f"host {host!r} is not served here")
        if request.method in UNSAFE:
            origin = request.headers.get("origin")
            if origin is not None and origin != f"{request.url.scheme}://{host}":
                return _error(403, "cross-origin request refused (the studio only accepts its own page)")
            site = request.headers.get("sec-fetch-site")
            if site is not None and site not in ("same-origin", "none"):
                return _error(403, f"cross-site request refused (Sec-Fetch-Site: {site})")
        if token is not None and request.url.path.startswith("/api"):
            given = request.cookies.get(TOKEN_COOKIE) or request.headers.get("x-trajkit-token") or ""
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _error(401, "this studio needs its access token: open the URL `trajkit studio` printed")
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = DOCS_CSP if request.url.path in ("/docs", "/redoc") else CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.exception_handler(StudioError)
    async def studio_error(_request: Request, exc: StudioError) -> JSONResponse:
        return _error(exc.status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors()[:3]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",)) or "(request)"
            parts.append(f"field '{where}': {error.get('msg', 'invalid')}")
        more = len(exc.errors()) - 3
        return _error(422, "; ".join(parts) + (f" (and {more} more)" if more > 0 else ""))

    @app.exception_handler(TrajkitError)
    async def trajkit_error(_request: Request, exc: TrajkitError) -> JSONResponse:
        return _error(422, str(exc))

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        given = request.query_params.get("token")
        if token is not None and given is not None:
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _error(401, "wrong access token")
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
            return response
        return HTMLResponse((static_dir() / "index.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_dir()), name="docs-assets")
    app.include_router(projects_router(ws, max_upload))

    @app.get("/api/health", tags=["studio"])
    def health() -> dict[str, Any]:
        """Version and limits."""
        return {"status": "ok", "version": __version__, "max_upload_bytes": max_upload, "exports": list(EXPORTS)}

    @app.get("/api/director/status", tags=["studio"])
    def director_status() -> dict[str, Any]:
        """The text-to-camera director: ``status`` idle, loading (with ``stage`` and ``seconds`` so far), ready or
        error (with ``error``). Its first load takes seconds to a minute."""
        return director.DIRECTOR.status()

    @app.post("/api/director/load", tags=["studio"], status_code=202)
    def director_load() -> dict[str, Any]:
        """Start loading the director in the background (nothing if loaded or loading); poll the status."""
        director.DIRECTOR.start()
        return director.DIRECTOR.status()

    @app.get("/api/entity-templates", tags=["studio"])
    def entity_templates() -> dict[str, Any]:
        """Each entity template's default parameters (they keep it in the rig camera's view) and the limits every
        parameter must lie in."""
        return {"templates": IN_VIEW, "limits": {k: list(v) for k, v in PARAMETER_LIMITS.items()}}

    @app.get("/api/projects", tags=["projects"])
    def list_projects() -> list[dict[str, Any]]:
        """Projects in the workspace, newest first."""
        return ws.list()

    @app.post("/api/projects", tags=["projects"], status_code=201)
    async def create_project(image: Annotated[UploadFile, File()], name: Annotated[str, Form()] = "") -> dict[str, Any]:
        """Upload an image (PNG, JPEG, WebP …): a new project with an empty document."""
        data = await _read_limited(image, max_upload)
        return summary(await run_in_threadpool(ws.create, data, name or Path(image.filename or "").stem))

    @app.get("/api/projects/{pid}", tags=["projects"])
    def get_project(pid: str) -> dict[str, Any]:
        """A project: its summary and document."""
        project = ws.load(pid)
        return {**summary(project), "document": project.record["document"],
                "depth": project.depth_path.is_file()}

    @app.put("/api/projects/{pid}", tags=["projects"])
    def save_project(pid: str, body: SaveBody) -> dict[str, Any]:
        """Save the document (validated as rendering and exporting need it; atomic). Pass ``revision`` to refuse
        overwriting a newer save (409)."""
        check_camera_text(body.document, ws.load(pid).size)  # the director's own prompt rules
        return summary(ws.save(pid, body.document, name=body.name, revision=body.revision))

    @app.delete("/api/projects/{pid}", tags=["projects"], status_code=204)
    def delete_project(pid: str) -> Response:
        """Delete a project and its renders."""
        ws.delete(pid)
        return Response(status_code=204)

    @app.get("/api/projects/{pid}/image", tags=["projects"], response_class=FileResponse)
    def project_image(pid: str) -> FileResponse:
        """The project's image (re-encoded PNG)."""
        return FileResponse(ws.load(pid).image_path, media_type="image/png")

    @app.post("/api/projects/{pid}/depth", tags=["projects"])
    async def upload_depth(pid: str, depth: Annotated[UploadFile, File()]) -> dict[str, Any]:
        """First-frame depth for bridging the camera (``.npy`` float array, or a 16-/8-bit PNG)."""
        check_id(pid)
        data = await _read_limited(depth, max_upload)
        arr = await run_in_threadpool(decode_depth, data, depth.filename or "")
        await run_in_threadpool(ws.set_depth, pid, arr)
        return {"shape": list(arr.shape), "min": float(arr.min()), "max": float(arr.max())}

    @app.post("/api/projects/{pid}/sample", tags=["controls"])
    def sample(pid: str, body: DocumentBody) -> dict[str, Any]:
        """Every track of a (possibly unsaved) document, sampled per frame, with the control that owns it."""
        project = ws.load(pid)
        doc = body.document
        tracks, owners = document_tracks(doc, project.size, depth=project.camera_depth(doc))
        head = {"frames": doc.frames, "fps": doc.fps, "size": list(project.size), "warnings": document_warnings(doc)}
        if tracks is None:
            return {**head, "tracks": []}
        xy = np.round(tracks.xy.astype(np.float64), 2)
        return {**head, "tracks": [{**owners[n], "xy": xy[:, n].tolist(), "visible": tracks.visible[:, n].tolist()}
                                   for n in range(tracks.num_tracks)]}

    @app.post("/api/projects/{pid}/camera-plot", tags=["controls"],
              responses={200: {"content": {"image/png": {}}}})
    def camera_plot(pid: str, body: DocumentBody) -> Response:
        """Three views of the document's camera move (PNG)."""
        from ..viz.plots import camera_three_view

        project = ws.load(pid)
        camera = document_camera(body.document, project.size)
        if camera is None:
            raise StudioError(409, "the document has no camera move")
        return Response(camera_three_view(camera), media_type="image/png")

    @app.post("/api/projects/{pid}/entities-plot", tags=["controls"],
              responses={200: {"content": {"image/png": {}}}})
    def entities_plot(pid: str, body: DocumentBody) -> Response:
        """The document's entities and camera seen from above (PNG)."""
        from ..viz.plots import entities_top_view

        project = ws.load(pid)
        ents = document_entities(body.document, project.size)
        if ents is None:
            raise StudioError(409, "the document has no entities")
        return Response(entities_top_view(ents), media_type="image/png")

    @app.get("/api/projects/{pid}/export/{fmt}", tags=["files"],
             responses={200: {"content": {media: {} for media in ("application/octet-stream", "application/zip",
                                                                  "application/json")}}})
    def export_file(pid: str, fmt: ExportFormat) -> Response:
        """The saved project's tracks in ``fmt``: trajkit-json, ati-pth, ati-examples, comfyui-json, wanmove, job."""
        name, media, data = export(ws.load(pid), fmt)
        return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.post("/api/projects/{pid}/import", tags=["files"])
    async def import_file(pid: str, file: Annotated[UploadFile, File()],
                          format: Annotated[ImportFormat | None, Form()] = None) -> dict[str, Any]:
        """Read a track file (ATI .pth, ComfyUI/native JSON, Wan-Move .npy, Tora .txt, or a zip export) and return
        the **saved** document with its tracks appended (not saved: the page saves its edits first, then this)."""
        project = ws.load(pid)
        data = await _read_limited(file, max_upload)
        doc = await run_in_threadpool(import_tracks, project, data, file.filename or "", format)
        return {"document": doc.model_dump(mode="json")}

    @app.post("/api/projects/{pid}/renders", tags=["preview"], status_code=202)
    def start_render(pid: str) -> dict[str, Any]:
        """Render the saved project with the preview backend in the background. It supersedes the project's render
        still waiting, if any; 429 when too many renders wait already."""
        return queue.start(ws.load(pid)).view()

    @app.get("/api/projects/{pid}/renders", tags=["preview"])
    def list_renders(pid: str) -> list[dict[str, Any]]:
        """The project's renders still kept (the newest few; superseded ones left out), newest first."""
        ws.folder(pid)
        return [render.view() for render in queue.list(pid)]

    @app.get("/api/projects/{pid}/renders/{rid}", tags=["preview"])
    def render_status(pid: str, rid: str) -> dict[str, Any]:
        """A render's progress; when done, the URLs of its video, overlay and still."""
        return queue.get(check_id(pid), rid).view()

    @app.get("/api/projects/{pid}/renders/{rid}/{name}", tags=["preview"], response_class=FileResponse)
    def render_file(pid: str, rid: str, name: RenderFile) -> FileResponse:
        """``video.mp4``, ``overlay.mp4`` or ``input.jpg`` of a finished render."""
        path, media = queue.file(check_id(pid), rid, name)
        return FileResponse(path, media_type=media)

    return app
