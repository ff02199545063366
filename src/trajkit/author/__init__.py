"""Constructive authoring: camera moves, track shapes and entity templates.

>>> from trajkit.author import dolly, pan, path_track
>>> cam = (dolly(1.0, duration=2) & pan(30, duration=2)).then(pan(-30)).path(fps=16)
>>> tracks = path_track([[100, 200], [400, 260], [700, 120]], frames=81, speed="ease-in-out")
"""

from . import entities
from .camera import Move, crane, dolly, ease, glide, hold, orbit, pan, pedestal, roll, tilt, truck, zoom
from .tracks import (
    add_pan,
    circle_zoom,
    duplicate,
    edit_with_falloff,
    path_track,
    set_span,
    static_points,
    translate,
)

__all__ = [
    "Move",
    "add_pan",
    "circle_zoom",
    "crane",
    "dolly",
    "duplicate",
    "ease",
    "edit_with_falloff",
    "entities",
    "glide",
    "hold",
    "orbit",
    "pan",
    "path_track",
    "pedestal",
    "roll",
    "set_span",
    "static_points",
    "tilt",
    "translate",
    "truck",
    "zoom",
]
