"""trajkit: trajectory-controlled video generation.

Every control is one of three core types — :class:`Tracks` (2D point tracks), :class:`CameraPath`
(a moving pinhole camera) and :class:`EntityPaths` (6-DoF entity paths with prompts) — that can be
loaded from and saved to the formats of ATI, 3DTrajMaster, GenDoP and their ecosystems.

>>> import trajkit
>>> tracks = trajkit.load("bear.pth", image="bear.jpg")      # doctest: +SKIP
>>> trajkit.save(tracks, "bear.json")                         # doctest: +SKIP
"""

from .core import CameraPath, EntityPaths, FormatError, Tracks, TrajkitError, ValidationError
from .formats import load, save

__version__ = "0.1.0"

__all__ = [
    "CameraPath",
    "EntityPaths",
    "FormatError",
    "Tracks",
    "TrajkitError",
    "ValidationError",
    "__version__",
    "load",
    "save",
]
