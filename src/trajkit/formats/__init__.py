"""File formats: one module per outside format, plus trajkit's native format.

``load(path, **hints)`` sniffs the format and returns a core type (or a document type for auxiliary
files); ``save(obj, path, format=None)`` picks the writer from the extension. ``formats()`` lists them.
No torch here: ATI's ``.pth`` is read with a restricted unpickler and written byte-for-byte as ATI does.
"""

from .registry import Format, detect, format_for_save, formats, get_format, load, save

__all__ = ["Format", "detect", "format_for_save", "formats", "get_format", "load", "save"]
