"""RealEstate10K / CameraCtrl pose text (``re10k-txt``).

Layout (one camera per line, space-separated)::

    https://www.youtube.com/watch?v=QShWPZxTDoE
    158692025 fx fy cx cy 0 0 r11 r12 r13 t1 r21 r22 r23 t2 r31 r32 r33 t3
    ...

* Line 1 is the source video URL. Files written by other tools sometimes omit it: a first line made
  only of numbers is read as a pose row; any other first line is kept as the header in ``meta["url"]``.
* ``timestamp`` is an integer in microseconds (kept in ``meta["timestamps_us"]``).
* ``fx fy cx cy`` are **normalised** by the image width / height (``fx_px = fx · W``, ``cy_px = cy · H``);
  the two zeros are unused. The principal point is taken as stored (corner-origin pixel coordinates).
* The last 12 values are a row-major 3×4 **world-to-camera** matrix with OpenCV camera axes
  (x right, y down, z forward). ``c2w`` is its exact matrix inverse (not the rigid shortcut, so that the
  ~1e-7 non-orthonormality of the stored rotations survives a round trip); the camera centre is ``−Rᵀt``.

What the file does not store, with defaults:

* ``size`` (W, H): the hint, else **long side 1024 px** with the aspect ratio implied by square pixels,
  ``W / H = fy / fx`` (CameraCtrl's files have ``fy / fx = 16 / 9`` → 1024×576).
* ``fps``: the hint, else from the timestamps, ``(T − 1) · 10⁶ / (t_last − t_first)``; **30** when
  there is a single row or the timestamps do not increase.
* Scale is unknown (``metric=False``).

The writer reproduces the URL line and the timestamps from ``meta`` (timestamps are synthesised from
``fps`` when missing or stale) and writes numbers with 9 decimals like the dataset, so a file read and
written back keeps its values; ``decimals=None`` writes shortest round-trip floats instead.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath
from ..core.errors import FormatError
from ._io import atomic_write_text, file_fields, invert_w2c, parse_float, read_text, require
from .registry import Format, register

NAME = "re10k-txt"
#: Values per pose row.
ROW_VALUES = 19
#: Long side of the canvas assumed when no ``size`` hint is given.
DEFAULT_LONG_SIDE = 1024
#: Frame rate assumed when the timestamps cannot give one.
FALLBACK_FPS = 30.0
#: Header written when the camera carries no source URL (CameraCtrl skips line 1 unconditionally).
DEFAULT_HEADER = "https://trajkit.invalid/no-source-url"


def _numbers(line: str) -> list[float] | None:
    """All tokens of a line as floats, or ``None`` if any is not a number."""
    try:
        return [float(t) for t in line.split()]
    except ValueError:
        return None


def _split(text: str, path: Path) -> tuple[str | None, list[tuple[int, str]]]:
    """``(header, [(line number, pose row), ...])`` with blank lines dropped."""
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines()) if ln.strip()]
    require(bool(lines), path, NAME, "the file is empty", expected="a URL line and pose rows")
    header = None
    if _numbers(lines[0][1]) is None:  # a URL (or any non-numeric header), not a pose row
        header = lines[0][1]
        lines = lines[1:]
    require(bool(lines), path, NAME, "no pose rows",
            expected=f"rows of {ROW_VALUES} numbers after the URL line",
            found="none")
    return header, lines


def _row(lineno: int, line: str, path: Path) -> tuple[str, np.ndarray]:
    tokens = line.split()
    require(len(tokens) == ROW_VALUES, path, NAME, f"line {lineno} has the wrong number of values",
            expected=f"{ROW_VALUES} (timestamp fx fy cx cy 0 0 + 3x4 w2c)", found=str(len(tokens)))
    values = [parse_float(tok, path, NAME, f"line {lineno}, value {k + 1}") for k, tok in enumerate(tokens)]
    return tokens[0], np.array(values)


def _timestamp(token: str, value: float) -> int | float:
    """Keep integer timestamps as ints so that they are written back digit for digit."""
    try:
        return int(token)
    except ValueError:
        return value


def _default_size(fx: float, fy: float, path: Path) -> tuple[int, int]:
    """Long side 1024 px, aspect W/H = fy/fx (square pixels)."""
    require(fx > 0 and fy > 0, path, NAME, "non-positive normalised focal length", expected="fx, fy > 0",
            found=f"fx={fx:g}, fy={fy:g}")
    aspect = fy / fx
    if aspect >= 1:
        return DEFAULT_LONG_SIDE, max(1, round(DEFAULT_LONG_SIDE / aspect))
    return max(1, round(DEFAULT_LONG_SIDE * aspect)), DEFAULT_LONG_SIDE


def _fps_from(timestamps: list[int | float]) -> float:
    span = float(timestamps[-1]) - float(timestamps[0])
    if len(timestamps) < 2 or span <= 0:
        return FALLBACK_FPS
    return (len(timestamps) - 1) * 1e6 / span


def _intrinsics(rows: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pixel ``K`` (3, 3), or (T, 3, 3) when the normalised intrinsics change between rows."""
    w, h = size
    K = np.zeros((len(rows), 3, 3))
    K[:, 0, 0], K[:, 1, 1] = rows[:, 1] * w, rows[:, 2] * h
    K[:, 0, 2], K[:, 1, 2] = rows[:, 3] * w, rows[:, 4] * h
    K[:, 2, 2] = 1.0
    return K[0] if np.array_equal(rows[:, 1:5], np.broadcast_to(rows[0, 1:5], rows[:, 1:5].shape)) else K


def read(path: Path, *, size: tuple[int, int] | None = None, fps: float | None = None) -> CameraPath:
    """Read a RealEstate10K pose file into a :class:`CameraPath` (defaults: see the module docstring)."""
    header, lines = _split(read_text(path, NAME), path)
    parsed = [_row(n, ln, path) for n, ln in lines]
    rows = np.stack([values for _, values in parsed])
    stamps = [_timestamp(tok, values[0]) for tok, values in parsed]
    canvas = size if size is not None else _default_size(rows[0, 1], rows[0, 2], path)
    w2c = np.zeros((len(rows), 4, 4))
    w2c[:, :3, :] = rows[:, 7:].reshape(-1, 3, 4)
    w2c[:, 3, 3] = 1.0
    meta: dict[str, Any] = {"timestamps_us": stamps}
    if header is not None:
        meta["url"] = header
    with file_fields(path, NAME, lambda f: f"invalid camera: {f.replace('c2w', 'pose row')} (from 0)"):
        return CameraPath(c2w=invert_w2c(w2c, path, NAME, "pose row"), K=_intrinsics(rows, canvas), size=canvas,
                          fps=_fps_from(stamps) if fps is None else fps, metric=False, meta=meta)


def _stamps(cam: CameraPath) -> list[int | float]:
    stored = cam.meta.get("timestamps_us")
    if isinstance(stored, (list, tuple)) and len(stored) == cam.num_frames:
        return list(stored)
    return [round(i * 1e6 / cam.fps) for i in range(cam.num_frames)]


def _fmt(x: float, decimals: int | None) -> str:
    if decimals is None:
        return repr(float(x))
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.000000000"


def _stamp_text(t: int | float) -> str:
    if isinstance(t, float) and not math.isfinite(t):
        raise FormatError(None, NAME, "a timestamp is not finite", found=repr(t))
    return str(t) if isinstance(t, int) or not float(t).is_integer() else str(int(t))


def write(cam: CameraPath, path: Path, *, url: str | None = None, decimals: int | None = 9) -> None:
    """Write ``cam`` as RealEstate10K text: header line, then one row of 19 values per frame.

    ``url`` overrides ``meta["url"]`` (default header: :data:`DEFAULT_HEADER`); ``decimals`` is the number
    of decimals for intrinsics and matrices (``None``: shortest round-trip floats).
    """
    header = url if url is not None else str(cam.meta.get("url", DEFAULT_HEADER))
    require("\n" not in header and "\r" not in header, path, NAME, "the URL line holds a line break",
            expected="one line", found=repr(header[:60]))
    w, h = cam.size
    Ks = cam.Ks
    w2c = np.linalg.inv(cam.c2w)[:, :3, :].reshape(-1, 12)
    lines = [header]
    for i, t in enumerate(_stamps(cam)):
        K = Ks[i]
        values = [K[0, 0] / w, K[1, 1] / h, K[0, 2] / w, K[1, 2] / h, 0.0, 0.0, *w2c[i]]
        lines.append(" ".join([_stamp_text(t), *(_fmt(v, decimals) for v in values)]))
    atomic_write_text(path, "\n".join(lines) + "\n")


def sniff(path: Path, head: bytes) -> bool:
    """A ``.txt`` whose first line is a URL (followed by a pose row) or a row of 19 numbers."""
    try:
        if path.suffix.lower() != ".txt":
            return False
        lines = [ln.strip() for ln in head.decode("utf-8", errors="ignore").splitlines() if ln.strip()]
        if not lines:
            return False
        first = _numbers(lines[0])
        if first is not None:
            return len(first) == ROW_VALUES
        if not lines[0].lower().startswith("http"):
            return False
        second = _numbers(lines[1]) if len(lines) > 1 else None
        return second is not None and len(second) == ROW_VALUES
    except Exception:  # a sniffer never raises
        return False


FORMAT = register(Format(
    name=NAME,
    title="RealEstate10K / CameraCtrl pose text",
    kind="camera",
    extensions=(".txt",),
    sniff=sniff,
    read=read,
    write=write,
    writes=(CameraPath,),
    hints=("size", "fps"),
    notes="URL line, then rows 'timestamp_us fx fy cx cy 0 0' + row-major 3x4 w2c (OpenCV); intrinsics "
          "normalised by W, H. Default size: long side 1024 with W/H = fy/fx; default fps from timestamps.",
))
