"""Constructive authoring: camera moves (and, as they land, track shapes and entity templates).

>>> from trajkit.author import dolly, pan
>>> path = (dolly(1.0, duration=2) & pan(30, duration=2)).then(pan(-30)).path(fps=16)
"""

from .camera import Move, crane, dolly, ease, hold, orbit, pan, pedestal, roll, tilt, truck, zoom

__all__ = ["Move", "crane", "dolly", "ease", "hold", "orbit", "pan", "pedestal", "roll", "tilt", "truck", "zoom"]
