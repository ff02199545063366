"""CoTracker3 on a trajkit video: checks, resizing, coordinate conversion, the offline / online passes and the
thresholds of the original predictors (``CoTrackerPredictor`` with ``backward_tracking=True`` for offline,
``CoTrackerOnlinePredictor`` for online).

Coordinates. trajkit queries and tracks are canvas pixels: the canvas spans ``[0, W] × [0, H]`` and the centre of
pixel ``i`` is at ``i + 0.5``. CoTracker puts pixel centres at integers and resizes frames with corner-aligned
bilinear interpolation from ``(H, W)`` to the model resolution ``(H', W')`` (384×512 for the released weights), so
a canvas point ``(x, y)`` enters the network as

    ``x' = (x − 0.5) · (W' − 1) / (W − 1)``,   ``y' = (y − 0.5) · (H' − 1) / (H − 1)``

and a predicted ``(x', y')`` comes back as ``x = x' · (W − 1) / (W' − 1) + 0.5`` (likewise ``y``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from ...core.errors import TrajkitError
from ..queries import check_queries
from ..video import check_video
from .model import CoTrackerThree
from .weights import VARIANTS, load_cotracker
from .windows import track_clip, track_windows

#: Offline: a 6×6 grid of extra queries on frame 0 tracked with the user's points and dropped afterwards.
SUPPORT_GRID = 6
#: Offline: visible where the visibility probability exceeds this (the confidence is not used).
OFFLINE_VISIBLE = 0.9
#: Online: visible where visibility × confidence probability exceeds this.
ONLINE_VISIBLE = 0.6


@dataclass(frozen=True)
class CoTrackerResult:
    """Tracks in trajkit pixels ``xy (T, N, 2)`` float32 and ``visible (T, N)`` bool, with the network's
    ``visibility`` and ``confidence`` probabilities ``(T, N)`` float32 they were thresholded from (offline:
    backward-pass values before each query's frame; online: the raw window outputs on every frame)."""

    xy: np.ndarray
    visible: np.ndarray
    visibility: np.ndarray
    confidence: np.ndarray


def support_grid(size: int, resolution: tuple[int, int]) -> torch.Tensor:
    """``size × size`` points ``(x, y)`` (row-major) spanning the model frame ``(H', W')`` minus a margin of
    ``W'/64`` on every side, in model pixels: the original predictor's support points."""
    h, w = resolution
    margin = w / 64
    ys = torch.linspace(margin, h - margin, size)
    xs = torch.linspace(margin, w - margin, size)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1).reshape(-1, 2)


def _frame_reader(video: np.ndarray, resolution: tuple[int, int], device: torch.device
                  ) -> Callable[[int, int], torch.Tensor]:
    def read(start: int, stop: int) -> torch.Tensor:
        clip = torch.from_numpy(video[start:stop]).to(device).permute(0, 3, 1, 2).float()
        if tuple(clip.shape[-2:]) != resolution:
            clip = functional.interpolate(clip, resolution, mode="bilinear", align_corners=True)
        return clip[None]
    return read


def _device(device: str) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise TrajkitError(f"device: {device!r} is not a torch device ({exc})") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise TrajkitError(f"device: {device!r} requested but CUDA is not available; use device='cpu'")
    return dev


def _run_offline(net: CoTrackerThree, read: Callable[[int, int], torch.Tensor], num_frames: int,
                 frames: torch.Tensor, xy: torch.Tensor, progress: Callable[[int, int], None] | None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward pass with the support grid, then (if any query is after frame 0) a pass over the reversed clip for the
    frames before each query, as ``backward_tracking=True`` does. Model units, support points dropped."""
    n = frames.shape[1]
    grid = support_grid(SUPPORT_GRID, net.model_resolution).to(xy)
    frames = torch.cat([frames, frames.new_zeros(1, len(grid))], dim=1)
    xy = torch.cat([xy, grid[None]], dim=1)
    backward = bool((frames > 0).any())
    total = 2 + backward

    chunks = [net.encode(read(s, min(s + 16, num_frames))) for s in range(0, num_frames, 16)]
    pyramid = net.pyramid(torch.cat(chunks, dim=1))
    del chunks
    if progress is not None:
        progress(1, total)
    out_xy, out_vis, out_conf = track_clip(net, pyramid, frames, xy)
    if progress is not None:
        progress(2, total)
    if backward:
        # The reversed clip's features are the forward features in reverse order (frames are encoded independently).
        pyramid = [level.flip(1) for level in pyramid]
        back = track_clip(net, pyramid, num_frames - 1 - frames, xy)
        before = (torch.arange(num_frames, device=xy.device)[None, :, None] < frames[:, None, :])
        out_xy = torch.where(before[..., None], back[0].flip(1), out_xy)
        out_vis = torch.where(before, back[1].flip(1), out_vis)
        out_conf = torch.where(before, back[2].flip(1), out_conf)
        if progress is not None:
            progress(3, total)
    return out_xy[:, :, :n], out_vis[:, :, :n], out_conf[:, :, :n]


def cotracker_result(video: np.ndarray, queries: np.ndarray, *, variant: str = "offline",
                     checkpoint: str | Path | None = None, download: bool = False, device: str = "cpu",
                     progress: Callable[[int, int], None] | None = None,
                     model: torch.nn.Module | None = None) -> CoTrackerResult:
    """:func:`track_cotracker` with the probabilities behind the visibility (see :class:`CoTrackerResult`)."""
    if variant not in VARIANTS:
        raise TrajkitError(f"cotracker3: unknown variant {variant!r}; choose 'offline' or 'online'")
    clip = check_video(video)
    num_frames, height, width = clip.shape[:3]
    q = check_queries(queries, num_frames, (width, height))
    dev = _device(device)
    if model is None:
        net = load_cotracker(variant, checkpoint=checkpoint, download=download, device=str(dev))
    elif not isinstance(model, CoTrackerThree):
        raise TrajkitError(f"cotracker3: model must be a CoTrackerThree network, got {type(model).__name__}")
    elif model.variant not in (variant, "any"):
        raise TrajkitError(f"cotracker3: variant {variant!r} was asked for but the model is the {model.variant} "
                           "network")
    else:
        net = model.to(dev)
    net.eval()

    res_h, res_w = net.model_resolution
    to_model = torch.tensor([(res_w - 1) / (width - 1), (res_h - 1) / (height - 1)], dtype=torch.float32, device=dev)
    from_model = torch.tensor([(width - 1) / (res_w - 1), (height - 1) / (res_h - 1)], dtype=torch.float32,
                              device=dev)
    q_frames = torch.from_numpy(q[:, 0].astype(np.int64)).to(dev)[None]
    q_xy = torch.from_numpy((q[:, 1:] - 0.5).astype(np.float32)).to(dev)[None] * to_model
    read = _frame_reader(clip, net.model_resolution, dev)
    with torch.inference_mode():
        if variant == "offline":
            xy, vis, conf = _run_offline(net, read, num_frames, q_frames, q_xy, progress)
        else:
            xy, vis, conf = track_windows(net, read, num_frames, q_frames, q_xy, progress=progress)
        vis, conf = vis.sigmoid(), conf.sigmoid()
        frame_ids = torch.arange(num_frames, device=dev)[None, :, None]
        at_query = frame_ids == q_frames[:, None, :]
        if variant == "offline":
            # The original overwrites each query's own frame with the query itself, visible.
            visible = (vis > OFFLINE_VISIBLE) | at_query
            xy = torch.where(at_query[..., None], q_xy[:, None], xy)
        else:
            # The online predictor has no backward pass: before its frame a query is held at its position, unseen.
            before = frame_ids < q_frames[:, None, :]
            visible = (vis * conf > ONLINE_VISIBLE) & ~before
            xy = torch.where(before[..., None], q_xy[:, None], xy)
        xy = xy * from_model
    return CoTrackerResult(xy=(xy[0].double().cpu().numpy() + 0.5).astype(np.float32),
                           visible=visible[0].cpu().numpy(), visibility=vis[0].float().cpu().numpy(),
                           confidence=conf[0].float().cpu().numpy())


def track_cotracker(video: np.ndarray, queries: np.ndarray, *, variant: str = "offline",
                    checkpoint: str | Path | None = None, download: bool = False, device: str = "cpu",
                    progress: Callable[[int, int], None] | None = None,
                    model: torch.nn.Module | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Track ``queries`` through ``video`` with CoTracker3.

    ``video``: uint8 ``(T, H, W, 3)`` RGB. ``queries``: ``(N, 3)`` rows ``(t, x, y)``, a whole frame index in
    ``[0, T)`` and a canvas point (pixel centres at ``i + 0.5``, inside ``[0, W] × [0, H]``). Returns ``xy`` float32
    ``(T, N, 2)`` in the same convention and ``visible`` bool ``(T, N)``.

    ``variant="offline"`` (``scaled_offline.pth``): the whole clip in one pass with a 6×6 support grid; frames before
    a query's frame come from a second pass over the reversed clip; visible where p(visible) > 0.9, and each query
    is exactly its own position (visible) on its frame. ``variant="online"`` (``scaled_online.pth``): windows of 16
    frames moved by 8, no support grid; visible where p(visible)·p(confident) > 0.6; before a query's frame the
    track stays at the query position and is not visible.

    ``checkpoint`` names the ``.pth`` file; otherwise the file is looked up in the Hugging Face cache
    (``facebook/cotracker3``) and fetched only with ``download=True``. ``model`` replaces the checkpoint with a
    ready network (tests). ``progress(done, total)`` is called per window (online) or per stage (offline:
    encoding, forward pass, backward pass).
    """
    result = cotracker_result(video, queries, variant=variant, checkpoint=checkpoint, download=download,
                              device=device, progress=progress, model=model)
    return result.xy, result.visible
