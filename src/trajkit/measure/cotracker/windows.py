"""How a clip is fed to the CoTracker3 network: the whole clip at once (offline) or 16-frame windows moved by 8
(online), as the original predictors do.

Everything here is in model units: frames at the network's ``model_resolution``, positions in its pixels (centres
at integers), visibility / confidence as logits. Query frames ``(B, N)`` are int64, query positions ``(B, N, 2)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .model import CoTrackerThree

#: Transformer updates per pass (the original predictors' ``iters=6``).
ITERATIONS = 6


def track_clip(net: CoTrackerThree, pyramid: list[torch.Tensor], frames: torch.Tensor, xy: torch.Tensor,
               iters: int = ITERATIONS) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One offline pass over every frame of ``pyramid``: tracks start at their query position on every frame with
    zero logits and are refined jointly. Returns ``xy (B, T, N, 2)``, ``vis``, ``conf`` ``(B, T, N)`` logits."""
    b, t = pyramid[0].shape[:2]
    n = xy.shape[1]
    patches = net.patches(pyramid, frames, xy)
    start = xy[:, None].expand(b, t, n, 2)
    zeros = xy.new_zeros(b, t, n)
    return net.refine(pyramid, start, patches, zeros, zeros, iters)


def window_starts(num_frames: int, window: int) -> list[int]:
    """First frames of the online windows: ``0, step, 2·step, …`` (``step = window // 2``) up to the first window
    that reaches the last frame; a clip no longer than one window is a single (padded) window."""
    step = window // 2
    starts = [0]
    while starts[-1] + window < num_frames:
        starts.append(starts[-1] + step)
    return starts


def _hold_last(x: torch.Tensor, length: int) -> torch.Tensor:
    """Pad ``x (B, F, ...)`` along frames to ``length`` by repeating its last frame."""
    missing = length - x.shape[1]
    if missing <= 0:
        return x
    return torch.cat([x, x[:, -1:].expand(-1, missing, *x.shape[2:])], dim=1)


def track_windows(net: CoTrackerThree, read_frames: Callable[[int, int], torch.Tensor], num_frames: int,
                  frames: torch.Tensor, xy: torch.Tensor, iters: int = ITERATIONS,
                  progress: Callable[[int, int], None] | None = None,
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The online predictor's loop: windows of ``S = net.window_len`` frames starting every ``S/2`` frames.

    ``read_frames(start, stop)`` returns frames ``[start, stop)`` as ``(B, F, 3, H, W)`` in ``[0, 255]``. In each
    window (the last one padded with copies of the final frame):

    * queries whose frame is first seen in this window (frames ``[0, S)`` for the first window, the new frames
      ``[start + S/2, start + S)`` after it) take their patch from it; queries not seen yet keep an all-zero patch
      but still take part in the joint update;
    * the start estimate of a query already seen before the new frames (frame ``< start + S/2``) is the previous
      prediction on the overlap ``[start, start + S/2)``, its last frame repeated over the new half (positions and
      logits); other queries start at their query position with zero logits;
    * the refined result is kept for the window's real frames (overwriting the overlap).

    Frames are encoded once (the overlap's features are reused). Returns ``xy (B, T, N, 2)``, ``vis``, ``conf``
    ``(B, T, N)`` logits; values before a query's frame are whatever the network predicted there.
    """
    window = net.window_len
    step = window // 2
    b, n = frames.shape
    out_xy = xy.new_zeros(b, num_frames, n, 2)
    out_vis = xy.new_zeros(b, num_frames, n)
    out_conf = xy.new_zeros(b, num_frames, n)
    patches: list[torch.Tensor] | None = None
    feats: torch.Tensor | None = None
    starts = window_starts(num_frames, window)
    for k, start in enumerate(starts):
        stop = min(start + window, num_frames)
        if feats is None:
            feats = net.encode(read_frames(start, stop))
        else:  # the previous window was a full one starting at start - step
            kept = feats[:, step:]
            feats = torch.cat([kept, net.encode(read_frames(start + kept.shape[1], stop))], dim=1)
        pyramid = net.pyramid(_hold_last(feats, window))

        first_seen = start if start == 0 else start + step
        seen_now = (frames >= first_seen) & (frames < start + window)
        fresh = net.patches(pyramid, frames - start, xy)
        if patches is None:
            patches = [torch.zeros_like(p) for p in fresh]
        mask = seen_now[:, :, None, None, None]
        patches = [torch.where(mask, new, old) for new, old in zip(fresh, patches, strict=True)]

        init_xy = xy[:, None].expand(b, window, n, 2)
        init_vis = xy.new_zeros(b, window, n)
        init_conf = xy.new_zeros(b, window, n)
        if start > 0:
            carry = (frames < start + window - step)[:, None, :]
            overlap = slice(start, start + window - step)
            init_xy = torch.where(carry[..., None], _hold_last(out_xy[:, overlap], window), init_xy)
            init_vis = torch.where(carry, _hold_last(out_vis[:, overlap], window), init_vis)
            init_conf = torch.where(carry, _hold_last(out_conf[:, overlap], window), init_conf)
        new_xy, new_vis, new_conf = net.refine(pyramid, init_xy, patches, init_vis, init_conf, iters)
        real = stop - start
        out_xy[:, start:stop] = new_xy[:, :real]
        out_vis[:, start:stop] = new_vis[:, :real]
        out_conf[:, start:stop] = new_conf[:, :real]
        if progress is not None:
            progress(k + 1, len(starts))
    return out_xy, out_vis, out_conf
