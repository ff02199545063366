"""trajkit's native format for the three core types: JSON for small controls, NPZ for large ones.

JSON (``*.json``) — one object; every control carries ``"trajkit"`` (its kind) and ``"version"``::

    {"trajkit": "tracks",   "version": 1, "fps": 16, "size": [832, 480] | null,
     "xy": [[[x, y], ...N], ...T], "visible": [[0|1, ...N], ...T], "meta": {...}}
    {"trajkit": "camera",   "version": 1, "fps": 30, "size": [W, H], "metric": false,
     "c2w": [T × 4 × 4], "K": [3 × 3] | [T × 3 × 3], "meta": {...}}
    {"trajkit": "entities", "version": 1, "fps": 30, "prompts": ["...", ...E],
     "poses": [E × T × 4 × 4], "camera": <a camera object without "trajkit"/"version"> | null, "meta": {...}}

Conventions are the core types' (pixels with a top-left origin; OpenCV camera axes; object-to-world
poses). Numbers are written with Python's shortest round-trip repr, so float64 values survive exactly
and float32 track positions come back bit-identical.

NPZ (``*.npz``, ``allow_pickle=False``) — the same header as JSON (without the arrays) stored as a
0-d unicode array under ``"__trajkit__"``, and the arrays under their names (``xy``, ``visible``,
``c2w``, ``K``, ``poses``, ``camera.c2w``, ``camera.K``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.errors import FormatError
from ..core.tracks import Tracks
from ._io import (
    MAX_FILE_BYTES,
    NUMPY_READ_ERRORS,
    atomic_write_bytes,
    atomic_write_text,
    check_npy_headers,
    dump_json,
    parse_json,
    read_bytes,
    read_json,
)
from .registry import Format, register

VERSION = 1
KINDS = ("tracks", "camera", "entities")
JSON_NAME = "trajkit-json"
NPZ_NAME = "trajkit-npz"
HEADER_KEY = "__trajkit__"

Control = Tracks | CameraPath | EntityPaths


# ---------------------------------------------------------------------------- object <-> dictionaries
def _camera_header(cam: CameraPath) -> dict[str, Any]:
    return {"fps": cam.fps, "size": list(cam.size), "metric": cam.metric, "meta": dict(cam.meta)}


def to_header_and_arrays(obj: Control) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Split a control into a JSON-able header and its named arrays."""
    if isinstance(obj, Tracks):
        header = {"trajkit": "tracks", "version": VERSION, "fps": obj.fps,
                  "size": None if obj.size is None else list(obj.size), "meta": dict(obj.meta)}
        return header, {"xy": obj.xy, "visible": obj.visible}
    if isinstance(obj, CameraPath):
        header = {"trajkit": "camera", "version": VERSION, **_camera_header(obj)}
        return header, {"c2w": obj.c2w, "K": obj.K}
    if isinstance(obj, EntityPaths):
        header = {"trajkit": "entities", "version": VERSION, "fps": obj.fps, "prompts": list(obj.prompts),
                  "camera": None if obj.camera is None else _camera_header(obj.camera), "meta": dict(obj.meta)}
        arrays = {"poses": obj.poses}
        if obj.camera is not None:
            arrays.update({"camera.c2w": obj.camera.c2w, "camera.K": obj.camera.K})
        return header, arrays
    raise FormatError(None, JSON_NAME, "cannot store this object", expected="Tracks, CameraPath or EntityPaths",
                      found=type(obj).__name__)


def from_header_and_arrays(header: Any, arrays: dict[str, Any], path: Path | None, fmt: str) -> Control:
    """Rebuild a control from a header and its arrays (validated by the core types)."""
    if not isinstance(header, dict):
        raise FormatError(path, fmt, "the document is not an object", found=type(header).__name__)
    kind = header.get("trajkit")
    if kind not in KINDS:
        raise FormatError(path, fmt, "unknown 'trajkit' kind", expected=" / ".join(KINDS), found=repr(kind))
    version = header.get("version")
    if version != VERSION:
        raise FormatError(path, fmt, "unsupported version", expected=str(VERSION), found=repr(version))

    def need(key: str, source: dict[str, Any] = arrays) -> Any:
        if key not in source:
            raise FormatError(path, fmt, f"missing field {key!r} for a {kind} document")
        return source[key]

    meta = header.get("meta") or {}
    if not isinstance(meta, dict):
        raise FormatError(path, fmt, "'meta' must be an object", found=type(meta).__name__)
    if kind == "tracks":
        size = header.get("size")
        return Tracks(xy=need("xy"), visible=need("visible"), size=None if size is None else tuple(size),
                      fps=need("fps", header), meta=meta)
    if kind == "camera":
        return CameraPath(c2w=need("c2w"), K=need("K"), size=tuple(need("size", header)), fps=need("fps", header),
                          metric=bool(header.get("metric", False)), meta=meta)
    cam_header = header.get("camera")
    camera = None
    if cam_header is not None:
        if not isinstance(cam_header, dict):
            raise FormatError(path, fmt, "'camera' must be an object or null", found=type(cam_header).__name__)
        camera = CameraPath(c2w=need("camera.c2w"), K=need("camera.K"), size=tuple(need("size", cam_header)),
                            fps=need("fps", cam_header), metric=bool(cam_header.get("metric", False)),
                            meta=cam_header.get("meta") or {})
    return EntityPaths(poses=need("poses"), prompts=need("prompts", header), fps=need("fps", header),
                       camera=camera, meta=meta)


# ---------------------------------------------------------------------------- JSON
def _json_arrays(obj: Control) -> dict[str, Any]:
    header, arrays = to_header_and_arrays(obj)
    doc = dict(header)
    for key, arr in arrays.items():
        value = arr.astype(int).tolist() if arr.dtype == bool else arr.astype(np.float64).tolist()
        if key.startswith("camera."):
            doc["camera"][key.split(".", 1)[1]] = value
        else:
            doc[key] = value
    return doc


def write_json(obj: Control, path: Path, indent: int | None = None) -> None:
    """Write a control as native JSON (compact by default; ``indent=2`` for a readable file)."""
    atomic_write_text(path, dump_json(_json_arrays(obj), indent=indent))


def read_json_control(path: Path) -> Control:
    """Read a native JSON control."""
    doc = read_json(path, JSON_NAME)
    return from_json_document(doc, path)


def from_json_document(doc: Any, path: Path | None = None) -> Control:
    """Build a control from a parsed native JSON document (as used by job files and the studio)."""
    if not isinstance(doc, dict):
        raise FormatError(path, JSON_NAME, "the document is not an object", found=type(doc).__name__)
    arrays = {k: doc[k] for k in ("xy", "visible", "c2w", "K", "poses") if k in doc}
    cam = doc.get("camera")
    if isinstance(cam, dict):
        arrays.update({f"camera.{k}": cam[k] for k in ("c2w", "K") if k in cam})
    if "visible" in arrays and isinstance(arrays["visible"], list):
        try:
            arrays["visible"] = np.array(arrays["visible"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise FormatError(path, JSON_NAME, "'visible' is not a numeric array") from exc
    return from_header_and_arrays(doc, arrays, path, JSON_NAME)


def to_json_document(obj: Control) -> dict[str, Any]:
    """The native JSON document of a control, as a dictionary."""
    return _json_arrays(obj)


def sniff_json(path: Path, head: bytes) -> bool:
    """A JSON object with a ``"trajkit"`` key near the start."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"trajkit"' in text[:4096]


# ---------------------------------------------------------------------------- NPZ
def write_npz(obj: Control, path: Path) -> None:
    """Write a control as native NPZ (compressed; header JSON under ``__trajkit__``)."""
    header, arrays = to_header_and_arrays(obj)
    buf = io.BytesIO()
    np.savez_compressed(buf, **{HEADER_KEY: np.array(dump_json(header, indent=None))}, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def read_npz(path: Path) -> Control:
    """Read a native NPZ control (no pickles; archive size bounded)."""
    data = read_bytes(path, NPZ_NAME)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise FormatError(path, NPZ_NAME, "not an .npz (zip) archive") from exc
    if total > MAX_FILE_BYTES:
        raise FormatError(path, NPZ_NAME, "archive expands too much", found=f"{total} bytes")
    check_npy_headers(data, path, NPZ_NAME)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            if HEADER_KEY not in archive.files:
                raise FormatError(path, NPZ_NAME, "not a trajkit archive", expected=f"a {HEADER_KEY!r} entry",
                                  found=str(archive.files[:8]))
            header_text = str(archive[HEADER_KEY])
            arrays = {k: archive[k] for k in archive.files if k != HEADER_KEY}
    except NUMPY_READ_ERRORS as exc:
        raise FormatError(path, NPZ_NAME, f"an array is not a readable .npy ({type(exc).__name__})") from exc
    header = parse_json(header_text, path, NPZ_NAME)
    return from_header_and_arrays(header, arrays, path, NPZ_NAME)


def sniff_npz(path: Path, head: bytes) -> bool:
    """A zip whose entries include ``__trajkit__.npy``."""
    return head.startswith(b"PK\x03\x04") and HEADER_KEY.encode() in head[:4096]


JSON_FORMAT = register(Format(
    name=JSON_NAME,
    title="trajkit native JSON (tracks, camera or entities)",
    kind="any",
    extensions=(".json",),
    sniff=sniff_json,
    read=read_json_control,
    write=write_json,
    writes=(Tracks, CameraPath, EntityPaths),
    notes="Lossless; documented in trajkit.formats.native.",
    options={"indent": "indentation for a readable file (default: compact)"},
))

NPZ_FORMAT = register(Format(
    name=NPZ_NAME,
    title="trajkit native NPZ (large controls)",
    kind="any",
    extensions=(".npz",),
    sniff=sniff_npz,
    read=read_npz,
    write=write_npz,
    writes=(Tracks, CameraPath, EntityPaths),
    notes="Lossless, compressed, no pickles.",
))
