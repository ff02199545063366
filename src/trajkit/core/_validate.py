"""Validation helpers shared by the core types (not public API)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ValidationError, describe_value


def as_array(value: Any, field: str, dtype: type, where: str) -> np.ndarray:
    """Convert to a numpy array of ``dtype`` or raise a :class:`ValidationError` naming ``field``."""
    try:
        arr = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(field, f"an array convertible to {np.dtype(dtype).name}", describe_value(value),
                              where=where) from exc
    return arr


def check_shape(arr: np.ndarray, field: str, shape: Sequence[int | None], where: str, text: str) -> None:
    """Check ``arr.shape`` against ``shape`` (``None`` = any size); ``text`` describes it for the message."""
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape, strict=False)):
        raise ValidationError(field, f"shape {text}", f"shape {tuple(arr.shape)}", where=where)


def check_finite(arr: np.ndarray, field: str, where: str) -> None:
    """Raise if ``arr`` holds NaN or ±inf, naming the first bad index."""
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValidationError(field, "finite values", f"{arr[idx]} at index {idx}", where=where)


def check_fps(fps: Any, where: str) -> float:
    """Frames per second: a finite number > 0."""
    try:
        value = float(fps)
    except (TypeError, ValueError) as exc:
        raise ValidationError("fps", "a positive number", describe_value(fps), where=where) from exc
    if not math.isfinite(value) or value <= 0:
        raise ValidationError("fps", "a positive finite number", repr(fps), where=where)
    return value


def check_size(size: Any, where: str, *, optional: bool = False) -> tuple[int, int] | None:
    """Canvas size ``(W, H)`` in pixels: two positive integers."""
    if size is None and optional:
        return None
    try:
        w, h = size
        wi, hi = int(w), int(h)
    except (TypeError, ValueError) as exc:
        raise ValidationError("size", "(width, height) in pixels", describe_value(size), where=where) from exc
    if wi != w or hi != h or wi <= 0 or hi <= 0:
        raise ValidationError("size", "two positive integers (width, height)", repr(size), where=where)
    return wi, hi


def frozen(arr: np.ndarray) -> np.ndarray:
    """Mark an array read-only so that frozen dataclasses stay immutable."""
    arr.setflags(write=False)
    return arr
