"""One interface over the point trackers: ``video (T, H, W, 3) + queries (N, 3) → Tracks`` with visibility.

=================  =========================================================================  =============
name               what                                                                        needs
=================  =========================================================================  =============
``lk``             OpenCV pyramidal Lucas–Kanade with round-trip checks and re-detection      nothing (CPU)
``cotracker3``     CoTracker3 offline (Karaev et al. 2024), whole clip at once                 torch, weights
``cotracker3-online``  CoTracker3 online, sliding windows                                     torch, weights
=================  =========================================================================  =============

CoTracker3's checkpoints (``facebook/cotracker3``) are looked up in the Hugging Face cache and fetched only with
``download=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import TrajkitError
from ..core.tracks import Tracks
from .queries import check_queries
from .video import check_video

TRACKERS: dict[str, str] = {
    "lk": "OpenCV pyramidal Lucas–Kanade with forward–backward checks and re-detection (CPU, no weights)",
    "cotracker3": "CoTracker3 offline: the whole clip at once (torch; facebook/cotracker3 scaled_offline.pth)",
    "cotracker3-online": "CoTracker3 online: sliding windows (torch; facebook/cotracker3 scaled_online.pth)",
}


def track_video(video: np.ndarray, queries: np.ndarray, *, tracker: str = "lk", fps: float = 16.0,
                checkpoint: str | Path | None = None, download: bool = False, device: str = "cpu",
                progress: Callable[[int, int], None] | None = None, **options: Any) -> Tracks:
    """Track ``queries`` (rows ``(t, x, y)``, canvas pixels) through ``video`` and return :class:`Tracks` on the
    video's canvas, with the tracker's visibility. ``options`` go to the tracker (``lk``: :class:`LKOptions`
    fields). ``meta`` records the tracker and its query frames (``query_frames``)."""
    frames = check_video(video)
    size = (frames.shape[2], frames.shape[1])
    q = check_queries(queries, len(frames), size)
    if tracker == "lk":
        from .lk import LKOptions, track_lk

        try:
            opts = LKOptions(**options)
        except TypeError as exc:
            raise TrajkitError(f"lk: unknown option ({exc})") from exc
        xy, visible = track_lk(frames, q, options=opts, progress=progress)
    elif tracker in ("cotracker3", "cotracker3-online"):
        if options:
            raise TrajkitError(f"{tracker}: unknown option(s) {sorted(options)}")
        try:
            from .cotracker import track_cotracker
        except ImportError as exc:
            raise TrajkitError(f"{tracker} needs torch: pip install torch ({exc})") from exc
        variant = "online" if tracker.endswith("online") else "offline"
        xy, visible = track_cotracker(frames, q, variant=variant, checkpoint=checkpoint, download=download,
                                      device=device, progress=progress)
    else:
        raise TrajkitError(f"unknown tracker {tracker!r}; choose one of {', '.join(TRACKERS)}")
    return Tracks(xy=xy, visible=visible, size=size, fps=fps,
                  meta={"tracker": tracker, "query_frames": q[:, 0].astype(int).tolist()})
