"""Unreal Engine ``FMatrix`` strings, as 3DTrajMaster and ReCamMaster store poses.

A string holds four bracketed rows, row-vector convention, translation in the last row, centimetres:
``"[r00 r01 r02 0] [r10 r11 r12 0] [r20 r21 r22 0] [tx ty tz 1] "``. Values may use exponent notation
or ``-0``; a trailing space is common. Conversion to trajkit's axes is
:func:`trajkit.core.conventions.unreal_to_opencv`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..core.errors import FormatError
from ._io import parse_float

_ROW = re.compile(r"\[([^\[\]]*)\]")


def parse_fmatrix(text: object, path: Path | None, fmt: str, what: str) -> np.ndarray:
    """Parse one ``FMatrix`` string into a float64 ``(4, 4)`` row-vector matrix (Unreal cm)."""
    if not isinstance(text, str):
        raise FormatError(path, fmt, f"{what} is not a matrix string", expected='"[a b c 0] [..] [..] [x y z 1]"',
                          found=type(text).__name__)
    rows = _ROW.findall(text)
    leftover = _ROW.sub("", text).strip()
    if len(rows) != 4 or leftover:
        raise FormatError(path, fmt, f"{what} is not four bracketed rows", expected="[..] [..] [..] [..]",
                          found=repr(text[:80]))
    values = [[parse_float(tok, path, fmt, what) for tok in row.split()] for row in rows]
    if any(len(r) != 4 for r in values):
        raise FormatError(path, fmt, f"{what} rows must hold 4 numbers each",
                          found=str([len(r) for r in values]))
    m = np.array(values, dtype=np.float64)
    if np.abs(m[:, 3] - np.array([0.0, 0.0, 0.0, 1.0])).max() > 1e-6:
        raise FormatError(path, fmt, f"{what} last column must be (0, 0, 0, 1)", found=str(m[:, 3].tolist()))
    return m


def format_fmatrix(m: np.ndarray) -> str:
    """Write a ``(4, 4)`` row-vector matrix as an ``FMatrix`` string (shortest round-trip floats)."""
    rows = []
    for row in np.asarray(m, dtype=np.float64):
        rows.append("[" + " ".join(_num(x) for x in row) + "]")
    return " ".join(rows) + " "


def _num(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x)) if x != 0 or not np.signbit(x) else "-0"
    return repr(float(x))
