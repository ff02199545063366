"""The ``TrajkitError`` family.

Every error a user can cause (a malformed file, a NaN, a wrong shape, an impossible option) is raised
as a subclass of :class:`TrajkitError`. Messages name *where* (file and/or field), *what was expected*
and *what was found*, so that the CLI can print them without a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any


class TrajkitError(Exception):
    """Base class of every error trajkit raises for bad input or impossible requests."""


class ValidationError(TrajkitError, ValueError):
    """A value handed to a core type (or computed from a file) breaks the type's contract."""

    def __init__(self, field: str, expected: str, found: str, *, where: str | None = None) -> None:
        self.field = field
        self.expected = expected
        self.found = found
        self.where = where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field}: expected {expected}, found {found}")


def describe_model_error(exc: Exception, default: str = "(value)") -> str:
    """``field 'a.b': message (found '...')`` for the first error of a pydantic ``ValidationError``."""
    first = exc.errors()[0]  # type: ignore[attr-defined]
    field = ".".join(str(p) for p in first["loc"]) or default
    return f"field '{field}': {first['msg']} (found {str(first.get('input'))[:60]!r})"


class FormatError(TrajkitError, ValueError):
    """A file could not be read (or written) as the format that was assumed for it."""

    def __init__(
        self,
        path: str | PathLike[str] | None,
        fmt: str,
        problem: str,
        *,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.format = fmt
        self.problem = problem
        self.expected = expected
        self.found = found
        where = f"{self.path} " if self.path else ""
        msg = f"{where}(read as {fmt}): {problem}"
        if expected is not None:
            msg += f"; expected {expected}"
        if found is not None:
            msg += f", found {found}"
        super().__init__(msg)


class UnknownFormatError(TrajkitError, ValueError):
    """No registered format recognises a file (or a requested format name does not exist)."""


class UnsupportedError(TrajkitError, ValueError):
    """The request is well-formed but the target cannot express it (e.g. a write-only or read-only format)."""


def describe_value(value: object) -> str:
    """Short, human-readable description of an unexpected value for error messages."""
    try:
        import numpy as np

        if isinstance(value, np.ndarray):
            return f"array of shape {tuple(value.shape)} and dtype {value.dtype}"
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        pass
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def state_mismatch(expected: Mapping[str, Any], state: Mapping[str, Any]) -> str | None:
    """How ``state`` fails to fit a model whose ``state_dict()`` is ``expected`` (``None`` if it fits):
    counts and first examples of missing keys, unexpected keys and tensors of other shapes. Values are anything
    with a ``.shape`` (torch tensors, NumPy arrays), so this needs no torch."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if tuple(state[k].shape) != tuple(expected[k].shape))
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
    if wrong:
        k = wrong[0]
        parts.append(f"{len(wrong)} with other shapes (e.g. {k}: file {tuple(state[k].shape)}, "
                     f"model {tuple(expected[k].shape)})")
    return "; ".join(parts) or None
