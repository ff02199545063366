"""Studio projects on disk: an image plus its document, in a workspace folder, with server-generated ids.

Layout::

    WORKSPACE/projects/<id>/project.json   {id, name, created, updated, revision, image: {width, height}, document}
    WORKSPACE/projects/<id>/image.png      the uploaded image, decoded and re-encoded (never the client's bytes)
    WORKSPACE/projects/<id>/depth.npy      optional first-frame depth
    WORKSPACE/projects/<id>/renders/<rid>/ preview job folders (video, overlay, report …)

Ids are 32 lowercase hex digits made by the server; anything else is refused before it touches a path. Saves
are atomic (temporary file, then rename) and serialised per project, so any number of saves — concurrent ones
included — leave one whole ``project.json`` whose ``revision`` counts them. Images are limited in bytes and pixels
and checked for size *before* they are decoded (decompression bombs are refused).

A server killed mid-write leaves the temporary files of its atomic writes (``.project.json.<random>.tmp`` …), and
one killed mid-create or mid-delete a project folder without ``project.json``: :meth:`Workspace.clean` removes both
when a workspace is opened.
"""

from __future__ import annotations

import io
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import TrajkitError
from ..formats._io import atomic_write, atomic_write_bytes, atomic_write_text, dump_json
from .document import Document, parse_document

ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
#: Temporary files of interrupted atomic writes in a project folder (``formats._io.atomic_write`` names them so).
STRAY_TMP = re.compile(r"^\.(project\.json|image\.png|depth\.npy)\..+\.tmp$")
MAX_UPLOAD_BYTES = 25 * 2**20
MAX_PIXELS = 40_000_000
MAX_SIDE = 16384
#: Image formats an upload may be (PIL decodes nothing else: no EPS/Ghostscript, no exotic plugins).
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
#: Depth maps: ``.npy`` numeric arrays (no pickles) or PNG images, at most this many values.
MAX_DEPTH_VALUES = 16_000_000
DEPTH_IMAGE_FORMATS = ("PNG",)


class StudioError(TrajkitError):
    """A request the studio refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_id(value: str, what: str = "project id") -> str:
    """``value`` if it is a server-made id (32 hex digits), else a 404 (no path is ever built from it)."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise StudioError(404, f"no such {what} (ids are 32 lowercase hex digits)")
    return value


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Uploaded bytes → ``(H, W, 3)`` uint8 RGB; refuses non-images, oversize and decompression bombs (4xx)."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise StudioError(400, "the upload is empty")
    try:
        # only the allowed plugins are tried; PIL refuses > 2 × MAX_IMAGE_PIXELS here already
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as im:
            w, h = im.size  # read from the header, before any pixel is decoded
            if w < 1 or h < 1 or w > MAX_SIDE or h > MAX_SIDE or w * h > max_pixels:
                raise StudioError(413, f"image of {w}×{h} pixels is too large (at most {max_pixels:,} pixels, "
                                       f"{MAX_SIDE} px a side)")
            rgb = np.asarray(im.convert("RGB"))
    except StudioError:
        raise
    except Image.DecompressionBombError as exc:
        raise StudioError(413, f"the image is too large to decode ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise StudioError(415, f"the upload is not a readable image ({type(exc).__name__}); use PNG, JPEG or "
                               "WebP") from exc
    return rgb


def encode_png(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def decode_depth(data: bytes, name: str) -> np.ndarray:
    """A depth map upload: ``.npy`` (2-D numbers, no pickles) or a 16-bit / 8-bit PNG (values as given).

    Every value must be finite and positive — the rule :func:`trajkit.bridge.camera_to_tracks` applies — so a map
    accepted here never fails later when the camera is bridged.
    """
    if name.lower().endswith(".npy"):
        from ..formats._io import NUMPY_READ_ERRORS

        try:
            depth = np.load(io.BytesIO(data), allow_pickle=False)
        except NUMPY_READ_ERRORS as exc:
            raise StudioError(415, f"the depth upload is not a readable .npy array ({exc})") from exc
    else:
        depth = decode_depth_png(data)
    if depth.ndim != 2 or depth.size > MAX_DEPTH_VALUES or depth.dtype.kind not in "fiu":
        raise StudioError(422, f"a depth map is a 2-D array of at most {MAX_DEPTH_VALUES:,} numbers, found shape "
                               f"{depth.shape} of {depth.dtype}")
    depth = depth.astype(np.float64)
    bad = int(np.count_nonzero(~np.isfinite(depth) | (depth <= 0)))
    if bad:
        raise StudioError(422, f"a depth map must be finite and positive everywhere; {bad:,} of its "
                               f"{depth.size:,} values are not")
    return depth


def decode_depth_png(data: bytes) -> np.ndarray:
    """A depth PNG as a 2-D array (16-bit and float modes kept, anything else as 8-bit grey); size checked first."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=DEPTH_IMAGE_FORMATS) as im:
            w, h = im.size  # from the header, before any pixel is decoded
            if w * h > MAX_DEPTH_VALUES:
                raise StudioError(413, f"depth image of {w}×{h} pixels is too large (at most "
                                       f"{MAX_DEPTH_VALUES:,} values)")
            return np.asarray(im if im.mode in ("I", "I;16", "F", "L") else im.convert("L"))
    except StudioError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise StudioError(415, f"the depth upload is neither .npy nor a readable PNG ({type(exc).__name__})") \
            from exc


@dataclass(frozen=True)
class Project:
    """A loaded project: its record (``project.json``) and folder."""

    folder: Path
    record: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.record["image"]["width"]), int(self.record["image"]["height"])

    @property
    def document(self) -> Document:
        return parse_document(self.record["document"])

    @property
    def image_path(self) -> Path:
        return self.folder / "image.png"

    @property
    def depth_path(self) -> Path:
        return self.folder / "depth.npy"

    def camera_depth(self, doc: Document) -> np.ndarray | None:
        """The first-frame depth map when ``doc`` bridges a camera (its only use; not read otherwise), else None."""
        if doc.camera is None or not doc.camera.include or not self.depth_path.is_file():
            return None
        return np.load(self.depth_path, allow_pickle=False)


class Workspace:
    """The projects of one studio (see the module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.projects = self.root / "projects"
        self.projects.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.clean()

    def clean(self) -> list[Path]:
        """Remove what an interrupted server left (see the module docstring); returns the removed paths. Only for a
        workspace no running server is writing to (it runs when one opens the workspace)."""
        removed = []
        for folder in sorted(self.projects.iterdir()):
            if folder.is_symlink() or not folder.is_dir() or not ID_PATTERN.fullmatch(folder.name):
                continue
            if not (folder / "project.json").is_file():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
                continue
            for path in folder.iterdir():
                if STRAY_TMP.fullmatch(path.name) and path.is_file():
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed

    def lock(self, pid: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(pid, threading.Lock())

    def folder(self, pid: str) -> Path:
        folder = self.projects / check_id(pid)
        if not (folder / "project.json").is_file():
            raise StudioError(404, "no such project")
        return folder

    def create(self, image_bytes: bytes, name: str = "") -> Project:
        rgb = decode_image(image_bytes)
        pid = uuid.uuid4().hex
        folder = self.projects / pid
        folder.mkdir()
        atomic_write_bytes(folder / "image.png", encode_png(rgb))
        now = time.time()
        record = {"id": pid, "name": _clean_name(name) or "untitled", "created": now, "updated": now,
                  "revision": 0, "image": {"width": int(rgb.shape[1]), "height": int(rgb.shape[0])},
                  "document": Document().model_dump(mode="json")}
        atomic_write_text(folder / "project.json", dump_json(record))
        return Project(folder, record)

    def load(self, pid: str) -> Project:
        import json

        folder = self.folder(pid)
        try:
            record = json.loads((folder / "project.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StudioError(500, f"project {pid} cannot be read ({exc})") from exc
        return Project(folder, record)

    def save(self, pid: str, doc: Document, *, name: str | None = None, revision: int | None = None) -> Project:
        """Replace the project's document; ``revision`` (if given) must be the current one (409)."""
        with self.lock(check_id(pid)):
            project = self.load(pid)
            record = dict(project.record)
            if revision is not None and revision != record["revision"]:
                raise StudioError(409, f"the project changed since revision {revision} (now {record['revision']}); "
                                       "reload it")
            record["document"] = doc.model_dump(mode="json")
            if name is not None:
                record["name"] = _clean_name(name) or record["name"]
            record["revision"] = int(record["revision"]) + 1
            record["updated"] = time.time()
            atomic_write_text(project.folder / "project.json", dump_json(record))
            return Project(project.folder, record)

    def set_depth(self, pid: str, depth: np.ndarray) -> None:
        """Store a (decoded, checked) depth map as the project's ``depth.npy``."""
        folder = self.folder(pid)
        with self.lock(pid):
            atomic_write(folder / "depth.npy", lambda fh: np.save(fh, depth, allow_pickle=False))

    def list(self) -> list[dict[str, Any]]:
        out = []
        for folder in sorted(self.projects.iterdir()):
            if ID_PATTERN.fullmatch(folder.name) and (folder / "project.json").is_file():
                try:
                    out.append(summary(self.load(folder.name)))
                except StudioError:
                    continue
        return sorted(out, key=lambda r: -r["updated"])

    def delete(self, pid: str) -> None:
        folder = self.folder(pid)
        with self.lock(pid):
            shutil.rmtree(folder)


def _clean_name(name: str) -> str:
    return re.sub(r"[\x00-\x1f<>]", "", name or "").strip()[:80]


def summary(project: Project) -> dict[str, Any]:
    r = project.record
    return {"id": r["id"], "name": r["name"], "created": r["created"], "updated": r["updated"],
            "revision": r["revision"], "image": r["image"], "tracks": len(r["document"].get("tracks", []))}
