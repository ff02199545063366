"""A job's fingerprint: one hash of everything that decides its video, so resuming a job list is exact.

``trajkit generate`` writes the fingerprint into ``job.json``; at the next run a finished folder whose
fingerprint matches is skipped, and one whose job changed (other options, ``--frames``/``--seed`` overrides,
an edited image or tracks file) is rendered again, with the change named.

What is hashed: the job spec (as JSON, keys sorted) and the resolved request the backend receives — size,
frames, fps, seed, prompt, backend options and the contents of every array (image, tracks, camera, entities,
depth). trajkit's version and timings are not hashed, so upgrading trajkit does not re-render finished jobs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import numpy as np

from .resolve import ResolvedJob

FIELD = "fingerprint"


def _feed(h: Any, value: Any) -> None:
    """Hash ``value`` structurally: arrays by dtype, shape and bytes; containers and dataclasses field by field."""
    if isinstance(value, np.ndarray):
        h.update(f"nd:{value.dtype.str}:{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        h.update(b"{")
        for key in sorted(value, key=str):
            h.update(repr(key).encode())
            _feed(h, value[key])
        h.update(b"}")
    elif isinstance(value, (list, tuple)):
        h.update(b"[")
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(type(value).__name__.encode())
        _feed(h, {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    elif value is None or isinstance(value, (bool, int, float, str, np.generic)):
        h.update(repr(value).encode())
    elif hasattr(value, "__dict__"):
        h.update(type(value).__name__.encode())
        _feed(h, vars(value))
    else:
        h.update(repr(value).encode())


def job_fingerprint(job: ResolvedJob) -> str:
    """The hex SHA-256 of the job's spec and resolved request (see the module docstring)."""
    h = hashlib.sha256()
    h.update(json.dumps(job.spec.model_dump(mode="json"), sort_keys=True, default=str).encode())
    _feed(h, job.request)
    return h.hexdigest()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


def describe_change(record: dict[str, Any], job: ResolvedJob) -> str:
    """What differs between a finished folder's ``job.json`` record and the job now (for the run's message)."""
    if FIELD not in record:
        return "its folder was made without a fingerprint (an older trajkit), so it cannot be checked"
    old = _flatten(record.get("spec") or {})
    new = _flatten(job.spec.model_dump(mode="json"))
    changed = [f"{key} {old.get(key)!r} → {new.get(key)!r}" for key in sorted(set(old) | set(new), key=str)
               if old.get(key) != new.get(key)]
    if changed:
        shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
        return f"the job changed: {shown}"
    return "its inputs changed (the image, tracks, camera or entity files, or their resolved values)"
