"""Core types and geometry (numpy only, no I/O, no torch).

``Tracks``, ``CameraPath`` and ``EntityPaths`` are the three controls every other layer speaks;
rotations, convention converters and time rules live beside them.
"""

from .ati import (
    ATI_FILE_FPS,
    ATI_FILE_FRAMES,
    ATI_MODEL_FRAMES,
    ati_track_input,
    ati_video_size,
    short_edge_units,
)
from .camera import CameraPath, intrinsics_from_fov, intrinsics_matrix, invert_rigid
from .entities import EntityPaths
from .errors import (
    FormatError,
    TrajkitError,
    UnknownFormatError,
    UnsupportedError,
    ValidationError,
)
from .timing import ati_frame_indices
from .tracks import Tracks

__all__ = [
    "ATI_FILE_FPS",
    "ATI_FILE_FRAMES",
    "ATI_MODEL_FRAMES",
    "CameraPath",
    "EntityPaths",
    "FormatError",
    "Tracks",
    "TrajkitError",
    "UnknownFormatError",
    "UnsupportedError",
    "ValidationError",
    "ati_frame_indices",
    "ati_track_input",
    "ati_video_size",
    "intrinsics_from_fov",
    "intrinsics_matrix",
    "invert_rigid",
    "short_edge_units",
]
