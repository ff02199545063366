"""MotionCtrl camera poses (``motionctrl-json``).

Layout: a JSON list of T lists of 12 numbers,
``[[r11, r12, r13, t1, r21, r22, r23, t2, r31, r32, r33, t3], ...]``, each a row-major 3×4
**world-to-camera** matrix with OpenCV camera axes (x right, y down, z forward), **relative to the first
camera** (``RT₀ ≈ I``; MotionCtrl's RealEstate10K poses ship 16 rows). ``c2w`` is the exact matrix inverse
of each row (so the ~1e-7 non-orthonormality of stored rotations survives a round trip).

The file stores no intrinsics, canvas or time; the defaults are MotionCtrl's sampling setup:

* ``size`` hint, default **(256, 256)** (MotionCtrl's SVD/VideoCrafter resolution);
* ``hfov`` hint in degrees, default **53.13°** (``2·atan(1/2)``), i.e. focal length = image width
  (``fx = W``), through :func:`~trajkit.core.camera.intrinsics_from_fov` (square pixels, centred
  principal point);
* ``fps`` hint, default **8**.

Scale is unknown (``metric=False``). The writer writes the path's own ``w2c`` so that a round trip is
lossless; MotionCtrl expects ``RT₀ = I``, so pass ``path.relative_to_first()`` when writing a path for it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from ..core.camera import CameraPath, intrinsics_from_fov
from ..core.errors import describe_value
from ._io import atomic_write_text, dump_json, file_fields, invert_w2c, number_array, read_json, require
from .registry import Format, register

NAME = "motionctrl-json"
DEFAULT_SIZE = (256, 256)
#: Horizontal field of view giving fx = W exactly: 2·atan(1/2) ≈ 53.13°.
DEFAULT_HFOV = math.degrees(2 * math.atan(0.5))
DEFAULT_FPS = 8.0
_LIST_START = re.compile(r"\s*\[\s*")


def read(path: Path, *, size: tuple[int, int] | None = None, hfov: float | None = None,
         fps: float | None = None) -> CameraPath:
    """Read MotionCtrl poses into a :class:`CameraPath` (defaults: see the module docstring)."""
    data = read_json(path, NAME)
    require(isinstance(data, list), path, NAME, "the file is not a JSON list",
            expected="a list of 12-number lists",
            found=describe_value(data))
    require(len(data) > 0, path, NAME, "the list of poses is empty", expected="at least one pose", found="[]")
    for i, row in enumerate(data):
        require(isinstance(row, list) and len(row) == 12, path, NAME, f"pose {i} is not a list of 12 numbers",
                expected="12 numbers (row-major 3x4 w2c)",
                found=f"{len(row)} values" if isinstance(row, list) else describe_value(row))
        bad = next((x for x in row if not _is_number(x)), None)
        require(bad is None, path, NAME, f"pose {i} holds a value that is not a JSON number",
                expected="numbers", found=describe_value(bad))
    rows = number_array(data, path, NAME, "poses", (None, 12), "T x 12 numbers")
    w2c = np.zeros((len(rows), 4, 4))
    w2c[:, :3, :] = rows.reshape(-1, 3, 4)
    w2c[:, 3, 3] = 1.0
    canvas = DEFAULT_SIZE if size is None else size
    K = intrinsics_from_fov(canvas, DEFAULT_HFOV if hfov is None else hfov)
    with file_fields(path, NAME, lambda f: f"invalid camera: {f.replace('c2w', 'pose')} (from 0)"):
        return CameraPath(c2w=invert_w2c(w2c, path, NAME, "pose"), K=K, size=canvas,
                          fps=DEFAULT_FPS if fps is None else fps, metric=False)


def write(cam: CameraPath, path: Path) -> None:
    """Write the path's own ``w2c`` rows (T × 12).

    MotionCtrl expects ``RT₀ = I``: pass ``cam.relative_to_first()`` when writing a path for it.
    """
    rows = np.linalg.inv(cam.c2w)[:, :3, :].reshape(-1, 12)
    atomic_write_text(path, dump_json(rows.tolist(), indent=None))


def sniff(path: Path, head: bytes) -> bool:
    """A ``.json`` list of lists of exactly 12 numbers (only the first row is checked if the head is cut)."""
    try:
        if path.suffix.lower() != ".json":
            return False
        text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
        try:
            rows = json.loads(text)
        except ValueError:
            start = _LIST_START.match(text)
            if start is None:
                return False
            first, _ = json.JSONDecoder().raw_decode(text, start.end())
            rows = [first]
        return (isinstance(rows, list) and len(rows) > 0
                and all(isinstance(r, list) and len(r) == 12 and all(_is_number(x) for x in r) for r in rows))
    except Exception:  # a sniffer never raises
        return False


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


FORMAT = register(Format(
    name=NAME,
    title="MotionCtrl camera poses JSON",
    kind="camera",
    extensions=(".json",),
    sniff=sniff,
    read=read,
    write=write,
    writes=(CameraPath,),
    hints=("size", "hfov", "fps"),
    notes="T x 12 row-major 3x4 w2c relative to the first camera (OpenCV). Not stored: size "
          "(default 256x256), "
          "hfov (default 53.13 deg, fx = W), fps (default 8). Write path.relative_to_first() for MotionCtrl.",
))
