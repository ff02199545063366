"""ATI's track normalisation: ``Tracks`` → the ``(F, N, 4)`` array its motion patch consumes.

Per ATI (bytedance/ATI ``wan/utils/motion.py``, specified in ``shared/specs/ati.md`` §3), in float32:

1. short-edge units: ``u = (xy − (W/2, H/2)) / min(W, H) · 2`` with ``(W, H)`` the **original image**
   size (the track canvas), so the short side spans ``[−1, 1]`` and the image centre is 0;
2. visibility to ``±1``: ``2·vis − 1``;
3. a time channel ``linspace(−1, 1, T)`` first (unused at inference, kept for layout compatibility);
4. resampling to ``F`` frames with the integer nearest rule (121 → 81: frame ``j`` ← ``floor(3j/2)``).

The result is ``[t, u_x, u_y, vis]`` per point: ``(F, N, 4)`` float32.
"""

from __future__ import annotations

import numpy as np

from .errors import ValidationError
from .timing import ati_frame_indices
from .tracks import Tracks

#: Frames ATI's track files hold (24 fps) and frames its Wan2.1 model sees (16 fps).
ATI_FILE_FRAMES = 121
ATI_FILE_FPS = 24.0
ATI_MODEL_FRAMES = 81


#: Wan2.1 I2V's pixel budget (832·480) used by ATI for both ``--size`` values.
WAN_MAX_AREA = 832 * 480


def ati_video_size(image_size: tuple[int, int], max_area: int = WAN_MAX_AREA) -> tuple[int, int]:
    """Video ``(W, H)`` that ATI / Wan2.1 I2V generate for an image of ``(W_img, H_img)`` (ati.md §4).

    ``lat_h = 2·floor(sqrt(A·r)/16)``, ``lat_w = 2·floor(sqrt(A/r)/16)`` with ``r = H_img/W_img`` and video size
    8× the latent: multiples of 16, area ≤ ``A``, aspect as close as that allows.
    """
    w, h = image_size
    r = h / w
    lat_h = 2 * int(np.floor(np.sqrt(max_area * r) / 16))
    lat_w = 2 * int(np.floor(np.sqrt(max_area / r) / 16))
    return 8 * lat_w, 8 * lat_h


def short_edge_units(xy: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pixels ``(..., 2)`` → short-edge units (centre 0, short side ±1), float32 as ATI computes them."""
    w, h = size
    centre = np.array([w / 2, h / 2], dtype=np.float32)
    half_short = np.float32(min(w, h))
    return (np.asarray(xy, dtype=np.float32) - centre) / half_short * np.float32(2)


def ati_track_input(tracks: Tracks, frames: int = ATI_MODEL_FRAMES) -> np.ndarray:
    """The ``(frames, N, 4)`` float32 array ``[t, u_x, u_y, ±vis]`` that ATI's motion patch expects.

    ``tracks`` must know its canvas (the original image size). Any source length works; the nearest
    rule maps the whole track onto ``frames`` frames (ATI's ``121 → 81`` and WanTrackToVideo's rule
    for other lengths). The motion patch itself needs ``frames = 4k + 1``.
    """
    size = tracks.require_size()
    if frames < 1 or (frames - 1) % 4 != 0:
        raise ValidationError("frames", "4k + 1 frames (81 for Wan2.1)", str(frames), where="ati_track_input")
    T = tracks.num_frames
    u = short_edge_units(tracks.xy, size)
    vis = tracks.visible.astype(np.float32) * np.float32(2) - np.float32(1)
    t_chan = np.broadcast_to(np.linspace(-1, 1, T, dtype=np.float32)[:, None], vis.shape)
    full = np.concatenate([t_chan[..., None], u, vis[..., None]], axis=-1)
    idx = ati_frame_indices(frames, T) if T > 1 else np.zeros(frames, dtype=np.int64)
    return np.ascontiguousarray(full[idx], dtype=np.float32)
