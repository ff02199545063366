"""Studio routes for managing projects and for the offline API docs.

* ``PATCH /api/projects/{pid}`` renames a project (its document and revision are left as they are);
* ``POST /api/projects/video`` makes a project from a video's **first frame** (MP4/MOV, WebM/Matroska): the frame is
  decoded with PyAV and stored like an uploaded image (``image.png``, the same size limits);
* ``GET /docs`` is Swagger UI served from the files the ``fastapi-offline`` package ships (Swagger UI 5, which
  reads FastAPI's OpenAPI 3.1; mounted by the app at :data:`DOCS_ASSETS`), so the docs work without the network.

Deleting a project is the app's ``DELETE /api/projects/{pid}``.

A video upload is read in chunks up to the limit, its container recognised from its first bytes and opened with
that demuxer only (FFmpeg never probes it as a playlist or any other format that can open further files or URLs),
its frame size checked before anything is decoded, and decoding happens off the event loop.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ..core.errors import TrajkitError
from ..formats._io import atomic_write_text, dump_json
from .workspace import (
    MAX_PIXELS,
    MAX_SIDE,
    Project,
    StudioError,
    Workspace,
    _clean_name,
    check_id,
    encode_png,
    summary,
)

#: Where the app mounts Swagger UI's files (see :func:`swagger_ui_dir`).
DOCS_ASSETS = "/docs-assets"
#: Packets read while looking for the first decodable frame before a video is refused as unreadable.
MAX_PACKETS = 512
CHUNK = 1 << 20
#: Containers a video upload may be, by their signature: (PyAV demuxer name, what to call it).
VIDEO_CONTAINERS = {"mp4": "MP4/MOV", "matroska": "WebM/Matroska"}


class RenameBody(BaseModel):
    name: str = Field(..., min_length=1, max_length=80)


def swagger_ui_dir() -> Path:
    """The folder of Swagger UI's files (``swagger-ui-bundle.js``, ``swagger-ui.css``, ``favicon.png``) in the
    ``fastapi-offline`` package, which the studio extra installs."""
    from importlib.util import find_spec

    spec = find_spec("fastapi_offline")  # located, not imported: only its files are used
    if spec is None or not spec.submodule_search_locations:
        raise TrajkitError("the studio's API docs need the fastapi-offline package: pip install 'trajkit[studio]'")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def video_container(head: bytes) -> str:
    """The demuxer for a video upload from its first bytes: ``mp4`` (ISO BMFF: MP4, MOV, M4V) or ``matroska``
    (WebM, MKV); anything else is refused (415) before FFmpeg sees it."""
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    raise StudioError(415, "the upload is not an MP4/MOV or WebM/Matroska video (only those containers are read)")


def first_frame(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The first frame of a video file's bytes as ``(H, W, 3)`` uint8 RGB (4xx for anything unreadable or too large).

    The frame size is checked from the stream's header before decoding and again on the decoded frame.
    """
    import av

    fmt = video_container(data[:16])

    def check_size(w: int, h: int) -> None:
        if w < 1 or h < 1 or w > MAX_SIDE or h > MAX_SIDE or w * h > max_pixels:
            raise StudioError(413, f"video frames of {w}×{h} pixels are too large (at most {max_pixels:,} pixels, "
                                   f"{MAX_SIDE} px a side)")

    try:
        with av.open(io.BytesIO(data), format=fmt) as container:
            if not container.streams.video:
                raise StudioError(415, f"the {VIDEO_CONTAINERS[fmt]} file has no video stream")
            stream = container.streams.video[0]
            if stream.codec_context is None:  # a codec FFmpeg does not know
                raise StudioError(415, f"the {VIDEO_CONTAINERS[fmt]} file's video codec cannot be decoded")
            check_size(stream.codec_context.width or 1, stream.codec_context.height or 1)
            for n, packet in enumerate(container.demux(stream)):
                if n >= MAX_PACKETS:
                    break
                for frame in packet.decode():
                    check_size(frame.width, frame.height)
                    return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
    except StudioError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise StudioError(415, f"the {VIDEO_CONTAINERS[fmt]} upload is not a readable video ({exc})") from exc
    raise StudioError(415, f"no frame could be decoded from the first {MAX_PACKETS} packets of the video")


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes, read in chunks; 413 as soon as more than ``limit`` bytes have arrived."""
    parts, total = [], 0
    while chunk := await upload.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise StudioError(413, f"the upload is larger than {limit // 2**20} MiB")
        parts.append(chunk)
    return b"".join(parts)


def rename_project(ws: Workspace, pid: str, name: str) -> Project:
    """Give project ``pid`` a new name (cleaned as the workspace cleans names); atomic, under the project's lock."""
    clean = _clean_name(name)
    if not clean:
        raise StudioError(422, "a project name needs at least one visible character")
    with ws.lock(check_id(pid)):
        project = ws.load(pid)
        record = {**project.record, "name": clean, "updated": time.time()}
        atomic_write_text(project.folder / "project.json", dump_json(record))
    return Project(project.folder, record)


def projects_router(ws: Workspace, max_upload: int) -> APIRouter:
    """The routes of this module over workspace ``ws`` (uploads up to ``max_upload`` bytes)."""
    router = APIRouter()

    @router.post("/api/projects/video", tags=["projects"], status_code=201)
    async def create_from_video(video: Annotated[UploadFile, File()],
                                name: Annotated[str, Form()] = "") -> dict[str, Any]:
        """Upload a video (MP4/MOV or WebM): a new project whose image is the video's first frame."""
        data = await read_limited(video, max_upload)

        def create() -> Project:
            return ws.create(encode_png(first_frame(data)), name or Path(video.filename or "").stem)

        return summary(await run_in_threadpool(create))

    @router.patch("/api/projects/{pid}", tags=["projects"])
    def rename(pid: str, body: RenameBody) -> dict[str, Any]:
        """Rename a project (the document and its revision are unchanged)."""
        return summary(rename_project(ws, pid, body.name))

    @router.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="trajkit studio API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")

    return router
