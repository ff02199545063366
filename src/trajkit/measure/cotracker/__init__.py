"""CoTracker3 point tracker (Karaev et al. 2024), written for trajkit in plain torch.

:func:`track_cotracker` is the entry point; torch is imported only when it is called. Modules: ``encoder`` (frame
CNN), ``transformer`` (update transformer), ``correlation`` (pyramid and 4D correlation), ``encodings`` (fixed
embeddings), ``model`` (the networks), ``windows`` (offline pass, online windows), ``weights`` (checkpoints),
``predict`` (resizing, coordinates, thresholds). The facts they follow are in ``docs/specs/cotracker3.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...core.errors import TrajkitError

if TYPE_CHECKING:
    import torch

__all__ = ["track_cotracker"]


def track_cotracker(video: np.ndarray, queries: np.ndarray, *, variant: str = "offline",
                    checkpoint: str | Path | None = None, download: bool = False, device: str = "cpu",
                    progress: Callable[[int, int], None] | None = None,
                    model: torch.nn.Module | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Track ``queries`` (rows ``(t, x, y)``, canvas pixels) through ``video`` (uint8 ``(T, H, W, 3)``) with
    CoTracker3; returns ``xy`` float32 ``(T, N, 2)`` and ``visible`` bool ``(T, N)``. See
    :func:`trajkit.measure.cotracker.predict.track_cotracker` for the conventions."""
    try:
        from .predict import track_cotracker as run
    except ImportError as exc:
        raise TrajkitError(f"cotracker3 needs torch: pip install torch ({exc})") from exc
    return run(video, queries, variant=variant, checkpoint=checkpoint, download=download, device=device,
               progress=progress, model=model)
