"""Types for files that are not a single control: camera sets, example lists, captions, prompt lists.

``trajkit.load`` returns these for auxiliary files of the seed systems' ecosystems, so that every file
those projects ship loads into a documented type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath
from ..core.errors import ValidationError
from ..core.tracks import Tracks


@dataclass(frozen=True, eq=False)
class CameraSet:
    """Several named cameras that share a timeline (ReCamMaster's 10 presets, 3DTrajMaster's 12-camera rig).

    ``cameras`` maps a name (``"cam01"``, ``"C_12_35mm"``, ...) to a :class:`~trajkit.CameraPath`, in file
    order.
    """

    cameras: Mapping[str, CameraPath]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cams = dict(self.cameras)
        if not cams:
            raise ValidationError("cameras", "at least one camera", "none", where="CameraSet")
        for name, cam in cams.items():
            if not isinstance(cam, CameraPath):
                raise ValidationError(f"cameras[{name!r}]", "a CameraPath", type(cam).__name__, where="CameraSet")
        object.__setattr__(self, "cameras", cams)
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def names(self) -> list[str]:
        """Camera names in file order."""
        return list(self.cameras)

    def get(self, key: str | int) -> CameraPath:
        """A camera by name, or by 1-based position (``1`` = the first camera in the file)."""
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            k = int(key)
            if not 1 <= k <= len(self.cameras):
                raise ValidationError("camera", f"a number in 1..{len(self.cameras)} or one of {self.names}",
                                      repr(key), where="CameraSet")
            return list(self.cameras.values())[k - 1]
        if key not in self.cameras:
            raise ValidationError("camera", f"one of {self.names}", repr(key), where="CameraSet")
        return self.cameras[key]

    def __repr__(self) -> str:
        first = next(iter(self.cameras.values()))
        return f"CameraSet(cameras={len(self.cameras)}, frames={first.num_frames}, names={self.names[:3]}...)"


@dataclass(frozen=True)
class AtiExample:
    """One entry of ATI's examples list: an image, its prompt and its tracks (on the image's canvas)."""

    image: Path
    text: str
    tracks: Tracks
    track_path: Path


@dataclass(frozen=True)
class AtiExamples:
    """ATI's ``examples/test.yaml``: a list of ``{image, text, track}``."""

    items: tuple[AtiExample, ...]

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class CameraCaption:
    """GenDoP / DataDoP ``<ShotID>_caption.json``: the three captions of one camera path."""

    movement: str | None
    detailed_interaction: str | None
    concise_interaction: str | None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class LocationData:
    """3DTrajMaster ``location_data*.json``: ``CameraTarget`` position (Unreal cm) per location key."""

    targets: Mapping[str, np.ndarray]
    heights: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TrajMasterCase:
    """One entry of 3DTrajMaster's ``test_sets.json``."""

    key: str
    video_name: str
    entity_prompts: tuple[str, ...]
    loc_prompt: str


@dataclass(frozen=True)
class TrajMasterTestSets:
    """3DTrajMaster's inference test set: cases keyed ``"0"``, ``"1"``, ..."""

    cases: tuple[TrajMasterCase, ...]

    def __len__(self) -> int:
        return len(self.cases)


@dataclass(frozen=True)
class PromptList:
    """A list of prompts (3DTrajMaster's ``entity_zoo.txt`` / ``location_zoo.txt``, Python list literals)."""

    items: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.items)
