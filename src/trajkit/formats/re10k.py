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
  there is a single row, or, with a :class:`~trajkit.formats._io.FormatWarning` naming the timestamps, when
  they do not strictly increase (all zero, constant, or going back).
* Scale is unknown (``metric=False``).

The writer reproduces the URL line and the timestamps from ``meta`` (timestamps are synthesised from
``fps`` when missing or stale) and writes numbers with 9 decimals like the dataset, so a file read and
written back keeps its values; ``decimals=None`` writes shortest round-trip floats instead.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath
from ..core.errors import FormatError
from ._io import FormatWarning, atomic_write_text, file_fields, invert_w2c, parse_float, require, text_lines
from .registry import Format, register

NAME = "re10k-txt"
#: Values per pose row.
ROW_VALUES = 19
#: Long side of the canvas assumed when no ``size`` hint is given.
DEFAULT_LONG_SIDE = 1024
#: Most pose rows read (a dataset clip has tens to hundreds; 10⁶ rows are ≈ 200 MB of text).
MAX_ROWS = 1_000_000
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


class _Rows:
    """Pose rows parsed one line at a time into float64 blocks (the text is never held whole)."""

    BLOCK = 4096

    def __init__(self, path: Path) -> None:
        self.path = path
        self.blocks: list[np.ndarray] = []
        self.count = 0
        self.stamps: list[int | float] = []

    def add(self, lineno: int, line: str) -> None:
        require(self.count < MAX_ROWS, self.path, NAME, "too many pose rows", expected=f"at most {MAX_ROWS}",
                found=f"more (line {lineno})")
        tokens = line.split()
        require(len(tokens) == ROW_VALUES, self.path, NAME, f"line {lineno} has the wrong number of values",
                expected=f"{ROW_VALUES} (timestamp fx fy cx cy 0 0 + 3x4 w2c)", found=str(len(tokens)))
        if self.count % self.BLOCK == 0:
            self.blocks.append(np.empty((self.BLOCK, ROW_VALUES)))
        try:
            values = [float(tok) for tok in tokens]
            ok = all(map(math.isfinite, values))
        except ValueError:
            ok = False
        if not ok:  # find the culprit, for the message
            values = [parse_float(tok, self.path, NAME, f"line {lineno}, value {k + 1}")
                      for k, tok in enumerate(tokens)]
        self.blocks[-1][self.count % self.BLOCK] = values
        self.stamps.append(_timestamp(tokens[0], values[0]))
        self.count += 1

    def array(self) -> np.ndarray:
        """``(T, 19)`` rows (the blocks are released as they are copied)."""
        out = np.empty((self.count, ROW_VALUES))
        for b, block in enumerate(self.blocks):
            start = b * self.BLOCK
            out[start:start + self.BLOCK] = block[: self.count - start]
        self.blocks.clear()
        return out


def _parse(path: Path) -> tuple[str | None, _Rows]:
    """The header line (``None`` when the file starts with a pose row) and the pose rows; blank lines skipped."""
    header: str | None = None
    rows = _Rows(path)
    seen = False
    for lineno, raw in text_lines(path, NAME):
        line = raw.strip()
        if not line:
            continue
        if not seen and _numbers(line) is None:  # a URL (or any non-numeric header), not a pose row
            header = line
        else:
            rows.add(lineno, line)
        seen = True
    require(seen, path, NAME, "the file is empty", expected="a URL line and pose rows")
    require(rows.count > 0, path, NAME, "no pose rows", expected=f"rows of {ROW_VALUES} numbers after the URL line",
            found="none")
    return header, rows


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


def _fps_from(stamps: list[int | float], path: Path) -> float:
    """``(T − 1) · 10⁶ / (t_last − t_first)``; :data:`FALLBACK_FPS` with a warning when they do not increase."""
    if len(stamps) < 2:
        return FALLBACK_FPS
    times = np.asarray(stamps, dtype=np.float64)
    steps = np.diff(times)
    if (steps > 0).all():
        return (len(times) - 1) * 1e6 / (times[-1] - times[0])
    k = int(np.flatnonzero(steps <= 0)[0])
    what = (f"all {stamps[0]}" if (times == times[0]).all()
            else f"pose row {k + 2} is at {stamps[k + 1]} µs after {stamps[k]} µs")
    warnings.warn(f"{path} (read as {NAME}): the timestamps do not increase ({what}), so they give no frame "
                  f"rate; read at {FALLBACK_FPS:g} fps (pass fps=..., CLI --fps, to set it)", FormatWarning,
                  stacklevel=3)
    return FALLBACK_FPS


def _intrinsics(rows: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pixel ``K`` (3, 3), or (T, 3, 3) when the normalised intrinsics change between rows."""
    w, h = size
    if np.array_equal(rows[:, 1:5], np.broadcast_to(rows[0, 1:5], rows[:, 1:5].shape)):
        rows = rows[:1]
    K = np.zeros((len(rows), 3, 3))
    K[:, 0, 0], K[:, 1, 1] = rows[:, 1] * w, rows[:, 2] * h
    K[:, 0, 2], K[:, 1, 2] = rows[:, 3] * w, rows[:, 4] * h
    K[:, 2, 2] = 1.0
    return K[0] if len(K) == 1 else K


def read(path: Path, *, size: tuple[int, int] | None = None, fps: float | None = None) -> CameraPath:
    """Read a RealEstate10K pose file into a :class:`CameraPath` (defaults: see the module docstring).

    The file is streamed: blank lines cost nothing, and each pose row is held as 19 floats, not as text.
    """
    header, parsed = _parse(path)
    rows = parsed.array()
    canvas = size if size is not None else _default_size(rows[0, 1], rows[0, 2], path)
    K = _intrinsics(rows, canvas)
    rate = _fps_from(parsed.stamps, path) if fps is None else fps
    w2c = np.zeros((len(rows), 4, 4))
    w2c[:, :3, :] = rows[:, 7:].reshape(-1, 3, 4)
    w2c[:, 3, 3] = 1.0
    del rows
    meta: dict[str, Any] = {"timestamps_us": parsed.stamps}
    if header is not None:
        meta["url"] = header
    c2w = invert_w2c(w2c, path, NAME, "pose row")
    del w2c
    with file_fields(path, NAME, lambda f: f"invalid camera: {f.replace('c2w', 'pose row')} (from 0)"):
        return CameraPath(c2w=c2w, K=K, size=canvas, fps=rate, metric=False, meta=meta)


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
