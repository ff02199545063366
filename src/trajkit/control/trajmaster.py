"""3DTrajMaster's entity pose conditioning (``shared/specs/trajmaster.md`` §2.4–2.6).

Per entity and latent frame, 12 numbers: the top 3×4 of the entity's pose in the viewing camera, flattened
**column-major** — ``[R00, R10, R20, R01, R11, R21, R02, R12, R22, tx, ty, tz]`` — in 3DTrajMaster's camera
convention (x right, y **up**, z forward, metres) with the entity's own axes ordered (right, up, forward). trajkit
keeps poses in OpenCV axes (y down) for both, so the conversion is ``diag(1, −1, 1) · P · diag(1, −1, 1)``.
No normalisation. Shapes: ``(E, L, 12)`` float64 from :func:`pose_vectors`; ``(1, E, L, 12)`` tensors from
:func:`pose_embeds` (3DTrajMaster casts to bf16, which moves translations by up to 0.03 m).

Latent frames (CogVideoX's causal VAE groups frames 1–4, 5–8, … behind frame 0): latent 0 takes source frame
``F₀`` and latent ``k`` the floor-midpoint of ``F_{4k−3}`` and ``F_{4k}``, for the ``N = 4k + 1`` video frames
``F`` a video is made of. 360°-Motion clips (99 frames at 30 fps) use 3DTrajMaster's crop (stride 1.75 from
frame 10: ``F`` = 10, 11, 13, …, 94 → latent 10, 14, 21, …, 91); any other path is taken as one video frame per
frame, so it must have ``4k + 1`` frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.errors import TrajkitError, ValidationError
from ..core.timing import latent_frame_indices, latent_source_frames

if TYPE_CHECKING:
    import torch

MAX_ENTITIES = 3
#: Tokens of each entity prompt the injector reads (the first 50 of T5's 226).
ENTITY_TOKENS = 50
#: Frames of a 360°-Motion clip; such paths get 3DTrajMaster's own crop.
DATASET_FRAMES = 99
_Y_UP = np.diag([1.0, -1.0, 1.0, 1.0])


def default_latent_frames(num_frames: int) -> np.ndarray:
    """The latent source frames for a path of ``num_frames``: 3DTrajMaster's inference crop for 360°-Motion clips,
    else every frame is a video frame (``num_frames`` must then be ``4k + 1``)."""
    if num_frames == DATASET_FRAMES:
        return latent_frame_indices()  # 3DTrajMaster's inference rule: 49 video frames from frame 10
    if (num_frames - 1) % 4:
        raise ValidationError("frames", f"4k + 1 frames (one per video frame, e.g. 49) or a {DATASET_FRAMES}-frame "
                              "360°-Motion clip; resample the entity paths first", str(num_frames),
                              where="3DTrajMaster poses")
    return latent_source_frames(np.arange(num_frames))


def pose_vectors(entities: EntityPaths, camera: CameraPath | None = None,
                 frames: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """3DTrajMaster's pose vectors ``(E, L, 12)`` float64 for 1–3 entities seen from ``camera`` (default: the
    attached one). ``frames``: the source frame of each latent frame (default :func:`default_latent_frames`)."""
    if not 1 <= entities.num_entities <= MAX_ENTITIES:
        raise TrajkitError(f"3DTrajMaster conditions on 1–{MAX_ENTITIES} entities; these paths have "
                           f"{entities.num_entities} (choose some with EntityPaths.select)")
    index = default_latent_frames(entities.num_frames) if frames is None else np.asarray(frames, dtype=np.int64)
    if index.ndim != 1 or len(index) == 0 or index.min() < 0 or index.max() >= entities.num_frames:
        raise ValidationError("frames", f"latent source frames within 0..{entities.num_frames - 1}",
                              str(index.tolist()), where="3DTrajMaster poses")
    poses = _Y_UP @ entities.in_camera(camera)[:, index] @ _Y_UP
    return np.ascontiguousarray(np.swapaxes(poses[..., :3, :4], -1, -2).reshape(entities.num_entities, len(index), 12))


def pose_embeds(entities: EntityPaths, camera: CameraPath | None = None,
                frames: Sequence[int] | np.ndarray | None = None, dtype: torch.dtype | None = None,
                device: torch.device | str | None = None) -> torch.Tensor:
    """:func:`pose_vectors` as a ``(1, E, L, 12)`` torch tensor (default bf16, as 3DTrajMaster feeds it)."""
    import torch

    vectors = torch.from_numpy(pose_vectors(entities, camera, frames))[None]
    return vectors.to(device=device, dtype=torch.bfloat16 if dtype is None else dtype)
