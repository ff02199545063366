"""ReCamMaster ``camera_extrinsics.json`` (``recammaster-json``): several cameras over a shared timeline.

Layout::

    {"frame0":  {"cam01": "[1 0 0 0] [-0 1 0 0] [0 -0 1 0] [3390 1380 240 1] ", ..., "cam10": "..."},
     ...
     "frame80": {...}}

Each value is an Unreal Engine ``FMatrix`` string (:mod:`trajkit.formats.unreal`): the camera-to-world
transform as a **row-vector** matrix in a left-handed world (x forward, y right, z up), translation in the
last row, in **centimetres**. Poses are converted with :func:`~trajkit.core.conventions.unreal_to_opencv`
(``(X, Y, Z) → (Y, −Z, X) / 100`` for world and camera axes; no offset), so ``c2w`` is in metres
(``metric=True``) and an Unreal camera with the identity rotation becomes the identity c2w.

Frames are ordered by the integer after ``"frame"``; every frame must hold the same camera names, kept in
the order of the first frame. ``read`` returns a :class:`~trajkit.formats.documents.CameraSet` of all
cameras, or a single :class:`~trajkit.CameraPath` when the ``camera`` hint names one (``"cam03"`` or the
1-based number ``3``).

Not stored in the file, with defaults:

* ``size`` hint, default **(832, 480)** (Wan 480p, ReCamMaster's output);
* ``hfov`` hint in degrees, default **60** (an assumption: the file has no intrinsics);
* ``fps`` hint, default **15** (ReCamMaster: 81 frames at 15 fps).

The writer accepts a ``CameraSet`` or one ``CameraPath`` (written as ``cam01``) and stores only poses:
intrinsics, canvas and fps are lost, and a non-metric path is written as if its units were metres.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath, intrinsics_from_fov
from ..core.conventions import opencv_to_unreal, unreal_to_opencv
from ..core.errors import UnsupportedError, describe_value
from ._io import atomic_write_text, dump_json, file_fields, read_json, require
from .documents import CameraSet
from .registry import Format, register
from .unreal import format_fmatrix, parse_fmatrix

NAME = "recammaster-json"
DEFAULT_SIZE = (832, 480)
DEFAULT_HFOV = 60.0
DEFAULT_FPS = 15.0
#: ReCamMaster's file is 81 KB (81 frames × 10 cameras); this keeps the read within 4× it + _io.JSON_ALLOWANCE.
MAX_FILE_BYTES = 16 * 1024 * 1024
_FRAME_KEY = re.compile(r"frame(\d+)")
_FIRST_KEY = re.compile(r'\s*\{\s*"(frame\d+)"\s*:\s*')


def _frames(data: Any, path: Path) -> list[tuple[int, str, dict[str, Any]]]:
    """``[(index, key, {camera: matrix string})]`` sorted by frame index."""
    require(isinstance(data, dict), path, NAME, "the file is not a JSON object",
            expected='{"frame0": {"cam01": "<FMatrix>", ...}, ...}', found=describe_value(data))
    require(len(data) > 0, path, NAME, "no frames", expected="keys frame0, frame1, ...", found="{}")
    out = []
    for key, cams in data.items():
        m = _FRAME_KEY.fullmatch(key)
        require(m is not None, path, NAME, f"unexpected key {key!r}", expected='keys "frame<N>"',
                found=repr(key))
        assert m is not None
        require(isinstance(cams, dict) and len(cams) > 0, path, NAME, f"{key} is not an object of cameras",
                expected='{"cam01": "<FMatrix>", ...}', found=describe_value(cams))
        out.append((int(m.group(1)), key, cams))
    out.sort(key=lambda item: item[0])
    dup = [a[1] for a, b in pairwise(out) if a[0] == b[0]]
    require(not dup, path, NAME, "two keys name the same frame", expected="unique frame numbers",
            found=", ".join(dup))
    return out


def _matrices(frames: list[tuple[int, str, dict[str, Any]]], path: Path) -> tuple[list[str], np.ndarray]:
    """Camera names (first frame's order) and Unreal matrices ``(T, C, 4, 4)``."""
    names = list(frames[0][2])
    out = np.empty((len(frames), len(names), 4, 4))
    for t, (_, key, cams) in enumerate(frames):
        require(set(cams) == set(names), path, NAME, f"{key} holds different cameras than {frames[0][1]}",
                expected=", ".join(names), found=", ".join(cams))
        for c, name in enumerate(names):
            out[t, c] = parse_fmatrix(cams[name], path, NAME, f"{key}.{name}")
    return names, out


def read(path: Path, *, camera: str | int | None = None, size: tuple[int, int] | None = None,
         hfov: float | None = None, fps: float | None = None) -> CameraSet | CameraPath:
    """Read all cameras as a :class:`CameraSet`, or one :class:`CameraPath` when ``camera`` is given."""
    frames = _frames(read_json(path, NAME, MAX_FILE_BYTES), path)
    names, ue = _matrices(frames, path)
    canvas = DEFAULT_SIZE if size is None else size
    K = intrinsics_from_fov(canvas, DEFAULT_HFOV if hfov is None else hfov)
    indices = [index for index, _, _ in frames]
    meta: dict[str, Any] = {} if indices == list(range(len(indices))) else {"frame_indices": indices}
    cams = {}
    for c, name in enumerate(names):
        with file_fields(path, NAME, lambda f, name=name: f"invalid camera {name}: {f.replace('c2w', 'frame')} "
                                                          "(from 0)"):
            cams[name] = CameraPath(c2w=unreal_to_opencv(ue[:, c]), K=K, size=canvas,
                                    fps=DEFAULT_FPS if fps is None else fps, metric=True,
                                    meta={**meta, "camera": name})
    rig = CameraSet(cameras=cams, meta=meta)
    if camera is None:
        return rig
    with file_fields(path, NAME, lambda _: "unknown camera"):
        return rig.get(camera.strip() if isinstance(camera, str) else camera)


def _cameras(obj: CameraSet | CameraPath) -> dict[str, CameraPath]:
    if isinstance(obj, CameraSet):
        return dict(obj.cameras)
    if isinstance(obj, CameraPath):
        return {"cam01": obj}
    raise UnsupportedError(f"{NAME} holds a CameraSet or a CameraPath, not a {type(obj).__name__}")


def write(obj: CameraSet | CameraPath, path: Path) -> None:
    """Write a camera set (or one camera as ``cam01``) as ReCamMaster ``frame<N>``/``cam`` FMatrix strings."""
    cams = _cameras(obj)
    counts = {name: cam.num_frames for name, cam in cams.items()}
    require(len(set(counts.values())) == 1, path, NAME, "cameras have different frame counts",
            expected="one shared timeline", found=str(counts))
    n = next(iter(counts.values()))
    ue = {name: opencv_to_unreal(cam.c2w) for name, cam in cams.items()}
    first = next(iter(cams.values()))
    stored = first.meta.get("frame_indices")
    indices = list(stored) if isinstance(stored, (list, tuple)) and len(stored) == n else list(range(n))
    doc = {f"frame{indices[t]}": {name: format_fmatrix(_tidy(m[t])) for name, m in ue.items()}
           for t in range(n)}
    atomic_write_text(path, dump_json(doc, indent=4))


def _tidy(m: np.ndarray) -> np.ndarray:
    """Undo rounding noise of the cm ↔ m conversion (``3588.7599999999998`` → ``3588.76``).

    A value moves to its 15-significant-digit form only when that is within a few ulps of it, so the
    written numbers stay equal to the computed ones to ~1e-15 relative.
    """
    out = m.copy()
    flat = out.reshape(-1)
    for k, x in enumerate(flat):
        snapped = float(f"{x:.15g}")
        if abs(snapped - x) <= 4 * np.spacing(abs(x)):
            flat[k] = snapped
    return out


def sniff(path: Path, head: bytes) -> bool:
    """A ``.json`` object whose first key is ``frame<N>`` and whose first value is an object of strings."""
    try:
        if path.suffix.lower() != ".json":
            return False
        text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
        match = _FIRST_KEY.match(text)
        if match is None:
            return False
        first, _ = json.JSONDecoder().raw_decode(text, match.end())
        return isinstance(first, dict) and len(first) > 0 and all(isinstance(v, str) for v in first.values())
    except Exception:  # a sniffer never raises
        return False


FORMAT = register(Format(
    name=NAME,
    title="ReCamMaster camera_extrinsics.json",
    kind="camera",
    extensions=(".json",),
    sniff=sniff,
    read=read,
    write=write,
    writes=(CameraPath, CameraSet),
    hints=("camera", "size", "hfov", "fps"),
    notes="frame<N> -> cam01..cam10 -> Unreal FMatrix strings (row vectors, cm). Reads a CameraSet, or one "
          "camera with camera='cam03' / 3. Not stored: size (default 832x480), hfov (default 60 deg, "
          "assumed), "
          "fps (default 15).",
))
