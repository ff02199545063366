"""``transforms.json``-style camera files: GenDoP / DataDoP (``gendop-json``) and nerfstudio.

Both formats store **camera-to-world** 4×4 matrices with **OpenGL camera axes** (x right, y up, z back)
under ``frames[i].transform_matrix`` and pinhole intrinsics in pixels of a ``w × h`` canvas. They are
converted at the door with :func:`~trajkit.core.conventions.opengl_to_opencv` (rotation columns 1 and 2
negated, an exact operation), so ``c2w`` holds OpenCV axes; writers apply the same flip back.

``gendop-json`` (GenDoP ``<ShotID>_transforms_cleaning.json`` and GenDoP prediction files)::

    {"w": 512, "h": 208, "fl_x": 642.345337, "fl_y": 642.345337, "cx": 256.0, "cy": 104.0,
     "frames": [{"transform_matrix": [[...4...] x 4], "monst3r_im_id": 1}, ...]}      # 120 frames

``w``/``h`` are ints in DataDoP and floats (``512.0``) in predictions; the principal point is kept as
stored even when it is not the canvas centre (``vis/et1.json``). ``monst3r_im_id`` (index + 1, not a
real frame id) is kept in ``meta["monst3r_im_id"]``.

``nerfstudio-json`` (nerfstudio ``transforms.json``)::

    {"camera_model": "OPENCV", "fl_x": .., "fl_y": .., "cx": .., "cy": .., "w": .., "h": ..,
     "k1": .., "k2": .., "p1": .., "p2": .., "applied_transform": [[...4...] x 3],
     "frames": [{"file_path": "images/frame_00001.png", "transform_matrix": [[...]], "fl_x": ..}, ...]}

Frames may override ``fl_x``, ``fl_y``, ``cx``, ``cy`` (giving a per-frame ``K``) and ``w``, ``h`` (which
must then agree: a :class:`~trajkit.CameraPath` has one canvas). Without ``fl_x`` the Blender-style
``camera_angle_x`` (radians) is used, with ``cx, cy`` defaulting to the canvas centre; without ``w, h``
the ``size`` hint is required. ``meta`` keeps ``file_paths``, ``camera_model``, ``distortion``
(``k1 k2 k3 k4 p1 p2``, not applied by trajkit), ``applied_transform`` and any other top-level or
per-frame keys (``nerfstudio_extra``, ``nerfstudio_frame_extra``) so that a round trip is lossless.

Neither format stores time or scale: the ``fps`` hint defaults to **30** (GenDoP's motion tagger works
at 30 fps) and ``metric`` is ``False`` (MonST3R / normalised / SfM units). ``meta["size_is_float"]``
records that ``w``/``h`` were JSON floats so that writing back keeps the number type.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath, intrinsics_matrix
from ..core.conventions import opencv_to_opengl, opengl_to_opencv
from ..core.errors import UnsupportedError, describe_value
from ._camera_fields import check_fov, is_number, json_number, json_object, pixels
from ._io import atomic_write_text, dump_json, file_fields, number_array, read_json, require
from .registry import Format, register

GENDOP = "gendop-json"
NERFSTUDIO = "nerfstudio-json"

#: Frame rate assumed when none is given (GenDoP's motion tagger uses 30 fps).
DEFAULT_FPS = 30.0

_INTRINSICS = ("fl_x", "fl_y", "cx", "cy")
_DISTORTION = ("k1", "k2", "k3", "k4", "p1", "p2")
# Top-level nerfstudio keys this module interprets (everything else is carried in meta).
_NS_KNOWN = frozenset(("camera_model", "w", "h", "frames", "applied_transform", "camera_angle_x",
                       "camera_angle_y", *_INTRINSICS, *_DISTORTION))
_NS_FRAME_KNOWN = frozenset(("file_path", "transform_matrix", "w", "h", *_INTRINSICS))
_FRAMES_START = re.compile(r'"frames"\s*:\s*\[\s*')


# ---------------------------------------------------------------------------------------- parsing helpers
def _frames(data: dict[str, Any], path: Path, fmt: str) -> list[dict[str, Any]]:
    require("frames" in data, path, fmt, "missing key 'frames'", expected="a list of frame objects")
    frames = data["frames"]
    require(isinstance(frames, list), path, fmt, "'frames' is not a list", expected="a list of frame objects",
            found=describe_value(frames))
    require(len(frames) > 0, path, fmt, "'frames' is empty", expected="at least one frame", found="0 frames")
    return [json_object(f, path, fmt, f"frames[{i}]") for i, f in enumerate(frames)]


def _gl_poses(frames: list[dict[str, Any]], path: Path, fmt: str) -> np.ndarray:
    """``(T, 4, 4)`` OpenGL c2w from ``frames[i].transform_matrix``."""
    out = np.empty((len(frames), 4, 4))
    for i, frame in enumerate(frames):
        require("transform_matrix" in frame, path, fmt, f"frames[{i}] has no 'transform_matrix'",
                expected="a 4x4 camera-to-world matrix")
        m = frame["transform_matrix"]
        require(isinstance(m, list) and all(isinstance(r, list) and all(is_number(x) for x in r) for r in m),
                path, fmt, f"frames[{i}].transform_matrix is not a list of lists of numbers",
                expected="a 4x4 list of numbers", found=describe_value(m))
        out[i] = number_array(m, path, fmt, f"frames[{i}].transform_matrix", (4, 4), "a 4x4 list of numbers")
    return out


def _camera(path: Path, fmt: str, **fields: Any) -> CameraPath:
    """Build the path, reporting a broken pose or intrinsics as a :class:`FormatError` on the file."""
    with file_fields(path, fmt, lambda f: "invalid camera at " + re.sub(r"^c2w\[(\d+)\]$",
                                                                         r"frames[\1].transform_matrix", f)):
        return CameraPath(**fields)


def _k_values(K: np.ndarray) -> dict[str, float]:
    return {"fl_x": float(K[0, 0]), "fl_y": float(K[1, 1]), "cx": float(K[0, 2]), "cy": float(K[1, 2])}


def _size_is_float(*values: Any) -> bool:
    return any(isinstance(v, float) for v in values)


# ---------------------------------------------------------------------------------------- gendop-json
def read_gendop(path: Path, *, fps: float | None = None) -> CameraPath:
    """Read a GenDoP / DataDoP transforms file (see the module docstring) into a :class:`CameraPath`.

    ``fps`` defaults to :data:`DEFAULT_FPS` (the file stores no time).
    """
    return _gendop(read_json(path, GENDOP), path, fps)


def _gendop(data: Any, path: Path, fps: float | None) -> CameraPath:
    data = json_object(data, path, GENDOP, "the file")
    for key in ("w", "h", *_INTRINSICS):
        require(key in data, path, GENDOP, f"missing key {key!r}",
                expected="keys w, h, fl_x, fl_y, cx, cy, frames")
    size = (pixels(data["w"], path, GENDOP, "w"), pixels(data["h"], path, GENDOP, "h"))
    fx, fy, cx, cy = (json_number(data[k], path, GENDOP, k) for k in _INTRINSICS)
    frames = _frames(data, path, GENDOP)
    c2w = opengl_to_opencv(_gl_poses(frames, path, GENDOP))
    meta: dict[str, Any] = {"size_is_float": _size_is_float(data["w"], data["h"])}
    ids = [f.get("monst3r_im_id") for f in frames]
    if all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        meta["monst3r_im_id"] = ids
    K = intrinsics_matrix(fx, fy, cx, cy)
    check_fov(K[None], size, path, GENDOP, "{key}")
    return _camera(path, GENDOP, c2w=c2w, K=K, size=size,
                   fps=DEFAULT_FPS if fps is None else fps, metric=False, meta=meta)


def _constant_K(path_obj: CameraPath, target: Path, fmt: str) -> np.ndarray:
    Ks = path_obj.Ks
    require(bool(np.allclose(Ks, Ks[0], rtol=0, atol=1e-9 * max(1.0, float(np.abs(Ks).max())))), target, fmt,
            "the camera's intrinsics change over time but this format stores one K",
            expected="a constant K", found=f"{len(Ks)} different per-frame K")
    return Ks[0]


def _size_values(cam: CameraPath) -> tuple[int | float, int | float]:
    w, h = cam.size
    return (float(w), float(h)) if cam.meta.get("size_is_float") else (w, h)


def _listed(meta: Mapping[str, Any], key: str, n: int) -> list[Any] | None:
    """``meta[key]`` when it is a list with one entry per frame (stale lists after resampling are ignored)."""
    value = meta.get(key)
    return list(value) if isinstance(value, (list, tuple)) and len(value) == n else None


def write_gendop(cam: CameraPath, path: Path) -> None:
    """Write ``cam`` as a GenDoP transforms file (OpenGL c2w; ``monst3r_im_id`` from meta, else ``i + 1``)."""
    K = _constant_K(cam, path, GENDOP)
    w, h = _size_values(cam)
    ids = _listed(cam.meta, "monst3r_im_id", cam.num_frames) or list(range(1, cam.num_frames + 1))
    gl = opencv_to_opengl(cam.c2w)
    frames = [{"transform_matrix": m.tolist(), "monst3r_im_id": k} for m, k in zip(gl, ids, strict=True)]
    doc = {"w": w, "h": h, **_k_values(K), "frames": frames}
    atomic_write_text(path, dump_json(doc, indent=4))


# ---------------------------------------------------------------------------------------- nerfstudio-json
def _ns_size(data: dict[str, Any], frames: list[dict[str, Any]], path: Path,
             size: tuple[int, int] | None) -> tuple[tuple[int, int], bool]:
    """The one canvas of a nerfstudio file (top-level or per-frame w/h, else the ``size`` hint)."""
    sizes = set()
    raw: list[Any] = []
    for i, frame in enumerate(frames):
        if "w" not in frame and "w" not in data:
            continue
        fw, fh = frame.get("w", data.get("w")), frame.get("h", data.get("h"))
        require(fh is not None, path, NERFSTUDIO, f"frames[{i}] has 'w' but no 'h'", expected="both w and h")
        raw += [fw, fh]
        sizes.add((pixels(fw, path, NERFSTUDIO, f"frames[{i}].w"),
                   pixels(fh, path, NERFSTUDIO, f"frames[{i}].h")))
    if not sizes:
        require(size is not None, path, NERFSTUDIO, "the file stores no image size", expected="keys w and h, "
                "or the size=(W, H) hint", found="neither")
        assert size is not None
        return (int(size[0]), int(size[1])), False
    require(len(sizes) == 1, path, NERFSTUDIO, "frames have different image sizes", expected="one w x h",
            found=str(sorted(sizes))[:120])
    return sizes.pop(), _size_is_float(*raw)


def _ns_intrinsics(data: dict[str, Any], frame: dict[str, Any], i: int, size: tuple[int, int],
                   path: Path) -> np.ndarray:
    """``K`` of one frame: per-frame keys override top-level ones; ``camera_angle_x`` is the fallback."""
    def get(key: str) -> float | None:
        where = f"frames[{i}].{key}" if key in frame else key
        value = frame.get(key, data.get(key))
        return None if value is None else json_number(value, path, NERFSTUDIO, where)

    fx, fy, cx, cy = (get(k) for k in _INTRINSICS)
    if fx is None:
        angle = get("camera_angle_x")
        require(angle is not None and 0 < angle < math.pi, path, NERFSTUDIO, "no focal length",
                expected="fl_x (pixels) or camera_angle_x (radians, in (0, pi))", found=repr(angle))
        assert angle is not None
        fx = 0.5 * size[0] / math.tan(angle / 2)
    if fy is None:
        angle_y = get("camera_angle_y")
        fy = fx if angle_y is None else 0.5 * size[1] / math.tan(angle_y / 2)
    cx = size[0] / 2 if cx is None else cx
    cy = size[1] / 2 if cy is None else cy
    return intrinsics_matrix(fx, fy, cx, cy)


def _ns_meta(data: dict[str, Any], frames: list[dict[str, Any]], path: Path) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    paths = [f.get("file_path") for f in frames]
    if any(p is not None for p in paths):
        bad = next((i for i, p in enumerate(paths) if not isinstance(p, str)), None)
        require(bad is None, path, NERFSTUDIO, f"frames[{bad}].file_path is not a string",
                expected="a string",
                found=describe_value(paths[bad]) if bad is not None else None)
        meta["file_paths"] = paths
    if "camera_model" in data:
        require(isinstance(data["camera_model"], str), path, NERFSTUDIO, "camera_model is not a string",
                expected='e.g. "OPENCV"', found=describe_value(data["camera_model"]))
        meta["camera_model"] = data["camera_model"]
    distortion = {k: json_number(data[k], path, NERFSTUDIO, k) for k in _DISTORTION if k in data}
    if distortion:
        meta["distortion"] = distortion
    if "applied_transform" in data:
        at = number_array(data["applied_transform"], path, NERFSTUDIO, "applied_transform", (None, 4),
                          "a 3x4 or 4x4 list of numbers")
        require(at.shape[0] in (3, 4), path, NERFSTUDIO, "applied_transform has the wrong shape",
                expected="3x4 or 4x4", found=str(at.shape))
        meta["applied_transform"] = at.tolist()
    extra = {k: v for k, v in data.items() if k not in _NS_KNOWN}
    if extra:
        meta["nerfstudio_extra"] = extra
    frame_extra = [{k: v for k, v in f.items() if k not in _NS_FRAME_KNOWN} for f in frames]
    if any(frame_extra):
        meta["nerfstudio_frame_extra"] = frame_extra
    return meta


def read_nerfstudio(path: Path, *, fps: float | None = None,
                    size: tuple[int, int] | None = None) -> CameraPath:
    """Read a nerfstudio ``transforms.json`` into a :class:`CameraPath` (per-frame ``K`` when frames differ).

    ``fps`` defaults to :data:`DEFAULT_FPS`; ``size`` is used only when the file stores no ``w``/``h``.
    """
    return _nerfstudio(read_json(path, NERFSTUDIO), path, fps, size)


def _nerfstudio(data: Any, path: Path, fps: float | None, size: tuple[int, int] | None) -> CameraPath:
    data = json_object(data, path, NERFSTUDIO, "the file")
    frames = _frames(data, path, NERFSTUDIO)
    canvas, size_is_float = _ns_size(data, frames, path, size)
    Ks = np.stack([_ns_intrinsics(data, f, i, canvas, path) for i, f in enumerate(frames)])
    check_fov(Ks, canvas, path, NERFSTUDIO, "frames[{i}].{key}")
    K = Ks[0] if np.array_equal(Ks, np.broadcast_to(Ks[0], Ks.shape)) else Ks
    c2w = opengl_to_opencv(_gl_poses(frames, path, NERFSTUDIO))
    meta = _ns_meta(data, frames, path)
    meta["size_is_float"] = size_is_float
    return _camera(path, NERFSTUDIO, c2w=c2w, K=K, size=canvas, fps=DEFAULT_FPS if fps is None else fps,
                   metric=False, meta=meta)


def write_nerfstudio(cam: CameraPath, path: Path) -> None:
    """Write ``cam`` as a nerfstudio ``transforms.json`` (OpenGL c2w; per-frame intrinsics when ``K`` varies).

    ``file_path`` comes from ``meta["file_paths"]``, else ``images/frame_{i+1:05d}.png``; ``camera_model``
    defaults to ``"OPENCV"``; distortion, ``applied_transform`` and other keys read from a file are written
    back.
    """
    meta = cam.meta
    n = cam.num_frames
    Ks = cam.Ks
    per_frame = not bool(np.array_equal(Ks, np.broadcast_to(Ks[0], Ks.shape)))
    w, h = _size_values(cam)
    doc: dict[str, Any] = {"camera_model": meta.get("camera_model", "OPENCV"), **_k_values(Ks[0]),
                           "w": w, "h": h}
    distortion = meta.get("distortion")
    if isinstance(distortion, Mapping):
        doc.update({k: float(distortion[k]) for k in _DISTORTION if k in distortion})
    if meta.get("applied_transform") is not None:
        doc["applied_transform"] = np.asarray(meta["applied_transform"], dtype=np.float64).tolist()
    extra = meta.get("nerfstudio_extra")
    if isinstance(extra, Mapping):
        doc.update({k: v for k, v in extra.items() if k not in doc and k != "frames"})
    files = _listed(meta, "file_paths", n) or [f"images/frame_{i + 1:05d}.png" for i in range(n)]
    frame_extra = _listed(meta, "nerfstudio_frame_extra", n) or [{}] * n
    gl = opencv_to_opengl(cam.c2w)
    frames = []
    for i in range(n):
        frame: dict[str, Any] = {"file_path": files[i], "transform_matrix": gl[i].tolist()}
        if per_frame:
            frame.update(_k_values(Ks[i]))
        if isinstance(frame_extra[i], Mapping):
            frame.update({k: v for k, v in frame_extra[i].items() if k not in frame})
        frames.append(frame)
    doc["frames"] = frames
    atomic_write_text(path, dump_json(doc, indent=4))


# ---------------------------------------------------------------------------------------- sniffing
def _first_frame(path: Path, head: bytes) -> dict[str, Any] | None:
    """The first entry of a top-level ``"frames"`` list, from the head of a ``.json`` file (or ``None``)."""
    if path.suffix.lower() != ".json":
        return None
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if not text.startswith("{"):
        return None
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None  # usually a head cut short of the end; look at the first frame only
    if isinstance(whole, dict):
        frames = whole.get("frames")
        first = frames[0] if isinstance(frames, list) and frames else None
    else:
        match = _FRAMES_START.search(text)
        if match is None:
            return None
        try:
            first, _ = json.JSONDecoder().raw_decode(text, match.end())
        except ValueError:
            return None
    return first if isinstance(first, dict) and "transform_matrix" in first else None


def sniff_gendop(path: Path, head: bytes) -> bool:
    """A ``.json`` object whose frames hold ``transform_matrix`` and ``monst3r_im_id`` (or no file_path)."""
    try:
        first = _first_frame(path, head)
    except Exception:  # a sniffer never raises
        return False
    return first is not None and ("monst3r_im_id" in first or "file_path" not in first)


def sniff_nerfstudio(path: Path, head: bytes) -> bool:
    """A ``.json`` object whose frames hold ``transform_matrix`` and ``file_path``."""
    try:
        first = _first_frame(path, head)
    except Exception:  # a sniffer never raises
        return False
    return first is not None and "file_path" in first and "monst3r_im_id" not in first


# ---------------------------------------------------------------------------------------- both flavours
def read(path: Path, *, fps: float | None = None, size: tuple[int, int] | None = None) -> CameraPath:
    """Read either flavour: nerfstudio when the first frame has a ``file_path`` and no ``monst3r_im_id``."""
    data = read_json(path, GENDOP)
    frames = data.get("frames") if isinstance(data, dict) else None
    first = frames[0] if isinstance(frames, list) and frames else None
    if isinstance(first, dict) and "file_path" in first and "monst3r_im_id" not in first:
        return _nerfstudio(data, path, fps, size)
    return _gendop(data, path, fps)


def write(cam: CameraPath, path: Path, *, flavour: str | None = None) -> None:
    """Write ``cam`` as ``flavour`` (``"gendop"`` or ``"nerfstudio"``; default: nerfstudio when
    ``meta`` holds ``file_paths``, else gendop)."""
    if flavour is None:
        flavour = "nerfstudio" if "file_paths" in cam.meta else "gendop"
    if flavour not in ("gendop", "nerfstudio"):
        raise UnsupportedError(f"{path}: unknown transforms.json flavour {flavour!r}; "
                               "use 'gendop' or 'nerfstudio'")
    (write_nerfstudio if flavour == "nerfstudio" else write_gendop)(cam, path)


# ---------------------------------------------------------------------------------------- registration
GENDOP_FORMAT = register(Format(
    name=GENDOP,
    title="GenDoP / DataDoP transforms JSON",
    kind="camera",
    extensions=(".json",),
    sniff=sniff_gendop,
    read=read_gendop,
    write=write_gendop,
    writes=(CameraPath,),
    hints=("fps",),
    notes="c2w in OpenGL axes; w, h, fl_x, fl_y, cx, cy in pixels; 120 frames in GenDoP; fps not stored "
          "(default 30); scale not metric.",
))

NERFSTUDIO_FORMAT = register(Format(
    name=NERFSTUDIO,
    title="nerfstudio transforms.json",
    kind="camera",
    extensions=(".json",),
    sniff=sniff_nerfstudio,
    read=read_nerfstudio,
    write=write_nerfstudio,
    writes=(CameraPath,),
    hints=("fps", "size"),
    notes="c2w in OpenGL axes; per-frame intrinsics allowed; distortion and applied_transform kept in meta "
          "but not applied; fps not stored (default 30); size hint only when w, h are absent.",
))

#: The module's first format (the registry convention is one ``FORMAT`` per module; this one has two).
FORMAT = GENDOP_FORMAT
