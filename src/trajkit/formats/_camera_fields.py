"""Checked fields of ``transforms.json``-style camera files: JSON numbers, canvas sides and the field of view that
the intrinsics imply (:mod:`trajkit.formats.transforms_json`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import FormatError, describe_value
from ._io import require

#: Largest canvas side read (JPEG's limit; an 8K video is 7 680 px wide).
MAX_CANVAS_SIDE = 65_535
#: Widest field of view a pinhole ``K`` may imply (at 180° the focal length is 0).
MAX_FOV_DEGREES = 179.0


def is_number(x: object) -> bool:
    """A JSON number (``bool`` excluded)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def json_number(value: Any, path: Path | None, fmt: str, what: str) -> float:
    """A finite JSON number (``bool`` is not a number here)."""
    if not is_number(value):
        raise FormatError(path, fmt, f"{what} is not a number", expected="a number",
                          found=describe_value(value))
    try:
        out = float(value)
    except OverflowError as exc:
        raise FormatError(path, fmt, f"{what} is out of range", found=str(value)[:40]) from exc
    require(math.isfinite(out), path, fmt, f"{what} is not finite", expected="a finite number",
            found=repr(value))
    return out


def pixels(value: Any, path: Path | None, fmt: str, what: str) -> int:
    """A canvas side: a positive whole number up to :data:`MAX_CANVAS_SIDE`, stored as a JSON int or float."""
    x = json_number(value, path, fmt, what)
    require(x > 0 and x == int(x), path, fmt, f"{what} is not a positive whole number of pixels",
            expected="a positive integer", found=repr(value))
    require(x <= MAX_CANVAS_SIDE, path, fmt, f"{what} is not a plausible image side",
            expected=f"at most {MAX_CANVAS_SIDE} pixels", found=repr(value))
    return int(x)


def check_fov(Ks: np.ndarray, size: tuple[int, int], path: Path, fmt: str, where: str) -> None:
    """Refuse focal lengths so short for the canvas that the field of view reaches :data:`MAX_FOV_DEGREES`.

    ``Ks`` is ``(T, 3, 3)``; ``where`` formats a frame index into the place the focal length came from
    (``"{key}"`` for a top-level value, ``"frames[{i}].{key}"`` for a per-frame one). Non-positive focal
    lengths are left to the core type, which refuses them.
    """
    for axis, key, side in ((0, "fl_x", size[0]), (1, "fl_y", size[1])):
        f = Ks[:, axis, axis]
        with np.errstate(divide="ignore"):
            fov = np.degrees(2 * np.arctan2(side / 2, f))
        bad = np.flatnonzero((f > 0) & (fov >= MAX_FOV_DEGREES))
        if bad.size:
            i = int(bad[0])
            require(False, path, fmt, f"{where.format(i=i, key=key)} = {f[i]:g} px gives a {fov[i]:.2f}° field of "
                    f"view on a canvas {side} px {'wide' if axis == 0 else 'high'}",
                    expected=f"a pinhole field of view below {MAX_FOV_DEGREES:g}° (a focal length above "
                             f"{side / 2 / math.tan(math.radians(MAX_FOV_DEGREES / 2)):.3g} px)")


def json_object(value: Any, path: Path | None, fmt: str, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object, else a :class:`FormatError` naming ``what``."""
    require(isinstance(value, dict), path, fmt, f"{what} is not a JSON object", expected="an object",
            found=describe_value(value))
    return value
