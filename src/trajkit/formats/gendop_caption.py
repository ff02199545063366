"""GenDoP / DataDoP caption files (``<ShotID>_caption.json``).

A JSON object with ``"Movement"`` (motion caption derived from the camera tags), ``"Detailed
Interaction"`` (3–4 scene-aware sentences) and ``"Concise Interaction"`` (one directorial sentence).
Other keys are kept in ``extra``.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import FormatError
from ._io import atomic_write_text, dump_json, read_json
from .documents import CameraCaption
from .registry import Format, register

NAME = "gendop-caption"
KEYS = {"Movement": "movement", "Detailed Interaction": "detailed_interaction",
        "Concise Interaction": "concise_interaction"}


def read(path: Path) -> CameraCaption:
    """Read the three captions (missing ones are ``None``)."""
    doc = read_json(path, NAME)
    if not isinstance(doc, dict) or not (KEYS.keys() & doc.keys()):
        raise FormatError(path, NAME, "no caption keys", expected=" / ".join(KEYS), found=repr(doc)[:60])
    values = {}
    for key, attr in KEYS.items():
        value = doc.get(key)
        if value is not None and not isinstance(value, str):
            raise FormatError(path, NAME, f"{key!r} is not text", found=type(value).__name__)
        values[attr] = value
    extra = {k: v for k, v in doc.items() if k not in KEYS}
    return CameraCaption(**values, extra=extra)


def write(caption: CameraCaption, path: Path) -> None:
    """Write a caption file with GenDoP's key names."""
    doc = {key: getattr(caption, attr) for key, attr in KEYS.items() if getattr(caption, attr) is not None}
    doc.update(caption.extra)
    atomic_write_text(path, dump_json(doc, indent=4))


def sniff(path: Path, head: bytes) -> bool:
    """A JSON object with a ``"Movement"`` or ``"Concise Interaction"`` key near the start."""
    text = head.lstrip()
    return text.startswith(b"{") and (b'"Movement"' in text or b'"Concise Interaction"' in text)


FORMAT = register(Format(
    name=NAME,
    title="GenDoP / DataDoP caption JSON",
    kind="document",
    extensions=(".json",),
    sniff=sniff,
    read=read,
    write=write,
    writes=(CameraCaption,),
))
