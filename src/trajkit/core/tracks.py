"""``Tracks``: 2D point tracks on an image canvas.

Conventions
-----------
* ``xy`` float32 ``(T, N, 2)``: positions in **pixels of the canvas**, origin at the top-left corner,
  x right, y down; the canvas spans ``[0, W] × [0, H]`` (pixel ``i`` covers ``[i, i+1)``). Points may lie
  outside the canvas.
* ``visible`` bool ``(T, N)``: whether track ``n`` is shown at frame ``t``. Positions of invisible points
  are kept (formats that pad with zeros produce zeros there).
* ``size``: canvas ``(W, H)`` in pixels, or ``None`` when unknown (an ATI ``.pth`` read without its
  image); operations that need the canvas raise a :class:`~trajkit.core.errors.ValidationError` then.
* ``fps``: frames per second of the track timeline; ``T ≥ 1`` frames and ``N ≥ 1`` tracks.
* ``meta``: free-form, JSON-serialisable information carried from a file (not used for equality).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from . import _validate as v
from .errors import ValidationError
from .timing import ati_frame_indices, fps_keeping_duration, interpolation_weights, time_positions

ResampleMethod = Literal["linear", "nearest", "ati"]
RescaleMode = Literal["resize", "crop"]


@dataclass(frozen=True, eq=False)
class Tracks:
    """N point tracks over T frames; see the module docstring for conventions."""

    xy: np.ndarray
    visible: np.ndarray
    size: tuple[int, int] | None
    fps: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = "Tracks"
        xy = v.as_array(self.xy, "xy", np.float32, where)
        v.check_shape(xy, "xy", (None, None, 2), where, "(T, N, 2)")
        if xy.shape[0] < 1 or xy.shape[1] < 1:
            raise ValidationError("xy", "at least 1 frame and 1 track", f"shape {xy.shape}", where=where)
        v.check_finite(xy, "xy", where)
        vis = np.asarray(self.visible)
        if vis.dtype != bool:
            num = v.as_array(vis, "visible", np.float64, where)
            if not np.isin(num, (0, 1)).all():
                raise ValidationError("visible", "booleans (or 0/1)", "other values", where=where)
            vis = num.astype(bool)
        else:
            vis = vis.copy()
        v.check_shape(vis, "visible", xy.shape[:2], where, f"(T, N) = {xy.shape[:2]}")
        object.__setattr__(self, "xy", v.frozen(xy))
        object.__setattr__(self, "visible", v.frozen(vis))
        object.__setattr__(self, "size", v.check_size(self.size, where, optional=True))
        object.__setattr__(self, "fps", v.check_fps(self.fps, where))
        object.__setattr__(self, "meta", dict(self.meta))

    # ------------------------------------------------------------------ basic properties
    @property
    def num_frames(self) -> int:
        """T, the number of frames."""
        return int(self.xy.shape[0])

    @property
    def num_tracks(self) -> int:
        """N, the number of tracks."""
        return int(self.xy.shape[1])

    @property
    def duration(self) -> float:
        """Seconds between the first and the last frame."""
        return (self.num_frames - 1) / self.fps

    def require_size(self) -> tuple[int, int]:
        """The canvas size, or a clear error when it is unknown."""
        if self.size is None:
            raise ValidationError("size", "a known canvas (W, H)", "None (pass the image or its size)",
                                  where="Tracks")
        return self.size

    def check_image(self, image: np.ndarray, where: str = "Tracks") -> tuple[int, int]:
        """``(W, H)`` of an ``(H, W, 3)`` uint8 RGB image these tracks can be drawn on (same canvas, if known)."""
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValidationError("image", "(H, W, 3) uint8 RGB", f"{img.shape} {img.dtype}", where=where)
        h, w = img.shape[:2]
        if self.size is not None and self.size != (w, h):
            raise ValidationError("tracks.size", f"the image size {(w, h)}", str(self.size), where=where)
        return w, h

    def replace(self, **changes: Any) -> Tracks:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def with_size(self, size: tuple[int, int]) -> Tracks:
        """The same pixel coordinates on a declared canvas (no rescaling)."""
        return self.replace(size=size)

    def allclose(self, other: Tracks, atol: float = 1e-5) -> bool:
        """Same shape, canvas, fps and visibility, and positions within ``atol`` pixels."""
        return (
            self.xy.shape == other.xy.shape
            and self.size == other.size
            and abs(self.fps - other.fps) <= 1e-9 * max(self.fps, 1.0)
            and bool(np.array_equal(self.visible, other.visible))
            and bool(np.allclose(self.xy, other.xy, atol=atol, rtol=0))
        )

    def __repr__(self) -> str:
        return (f"Tracks(frames={self.num_frames}, tracks={self.num_tracks}, size={self.size}, "
                f"fps={self.fps:g})")

    # ------------------------------------------------------------------ selection / combination
    def select(self, indices: Sequence[int] | np.ndarray | slice) -> Tracks:
        """Keep the given tracks (by index, mask or slice)."""
        xy = self.xy[:, indices]
        if xy.ndim != 3 or xy.shape[1] == 0:
            raise ValidationError("indices", "a non-empty selection of tracks", repr(indices), where="Tracks")
        return self.replace(xy=xy, visible=self.visible[:, indices])

    def frames(self, start: int = 0, stop: int | None = None) -> Tracks:
        """Keep frames ``start:stop`` (a time crop; fps unchanged)."""
        xy = self.xy[start:stop]
        if xy.shape[0] == 0:
            raise ValidationError("frames", "a non-empty frame range", f"[{start}:{stop}]", where="Tracks")
        return self.replace(xy=xy, visible=self.visible[start:stop])

    @staticmethod
    def concatenate(items: Sequence[Tracks]) -> Tracks:
        """Put the tracks of several objects side by side (same frames, fps and canvas)."""
        if not items:
            raise ValidationError("items", "at least one Tracks", "an empty list", where="Tracks.concatenate")
        first = items[0]
        for k, other in enumerate(items[1:], start=1):
            if other.num_frames != first.num_frames or abs(other.fps - first.fps) > 1e-9:
                raise ValidationError(f"items[{k}]", f"{first.num_frames} frames at {first.fps:g} fps",
                                      f"{other.num_frames} frames at {other.fps:g} fps",
                                      where="Tracks.concatenate")
            if other.size != first.size:
                raise ValidationError(f"items[{k}].size", str(first.size), str(other.size),
                                      where="Tracks.concatenate")
        return first.replace(xy=np.concatenate([t.xy for t in items], axis=1),
                             visible=np.concatenate([t.visible for t in items], axis=1))

    # ------------------------------------------------------------------ time
    def resample(self, frames: int, fps: float | None = None, method: ResampleMethod = "linear") -> Tracks:
        """Resample to ``frames`` frames.

        * ``method="linear"`` / ``"nearest"``: by time. With ``fps`` given, output frame ``j`` is the
          track at ``j / fps`` seconds (held at its last value past the end); without it, the output fps
          is chosen so that the duration is kept. Linear blends positions; a blended point is visible
          only when both neighbours are (nearest takes the neighbour's visibility).
        * ``method="ati"``: ATI / WanTrackToVideo's integer nearest rule
          (:func:`~trajkit.core.timing.ati_frame_indices`), which always maps the whole track onto the
          new length; ``fps`` defaults to the duration-keeping value (121 @ 24 → 81 @ 16).
        """
        if frames < 1:
            raise ValidationError("frames", "a positive frame count", str(frames), where="Tracks.resample")
        out_fps = fps if fps is not None else fps_keeping_duration(frames, self.num_frames, self.fps)
        if method == "ati":
            if self.num_frames < 2:
                idx = np.zeros(frames, dtype=np.int64)
            else:
                idx = ati_frame_indices(frames, self.num_frames)
            return self.replace(xy=self.xy[idx], visible=self.visible[idx], fps=out_fps)
        if method not in ("linear", "nearest"):
            raise ValidationError("method", "'linear', 'nearest' or 'ati'", repr(method), where="Tracks.resample")
        pos = time_positions(frames, out_fps, self.num_frames, self.fps)
        if method == "nearest":
            idx = np.clip(np.floor(pos + 0.5).astype(np.int64), 0, self.num_frames - 1)
            return self.replace(xy=self.xy[idx], visible=self.visible[idx], fps=out_fps)
        lo, hi, frac = interpolation_weights(pos, self.num_frames)
        f = frac[:, None, None]
        xy = self.xy[lo].astype(np.float64) * (1 - f) + self.xy[hi].astype(np.float64) * f
        exact = frac < 1e-9
        vis = np.where(exact[:, None], self.visible[lo], self.visible[lo] & self.visible[hi])
        return self.replace(xy=xy, visible=vis, fps=out_fps)

    # ------------------------------------------------------------------ space
    def rescale(self, size: tuple[int, int], mode: RescaleMode = "resize") -> Tracks:
        """Map the tracks onto another canvas.

        * ``"resize"``: stretch ``W × H`` onto ``W' × H'`` (``x' = x·W'/W``, ``y' = y·H'/H``).
        * ``"crop"``: scale uniformly until the new canvas is covered, then centre-crop (ComfyUI's
          ``common_upscale(..., "center")``): ``x' = (x − W/2)·s + W'/2`` with ``s = max(W'/W, H'/H)``.
        """
        src_w, src_h = self.require_size()
        new = v.check_size(size, "Tracks.rescale")
        assert new is not None
        new_w, new_h = new
        xy = self.xy.astype(np.float64)
        if mode == "resize":
            xy = xy * np.array([new_w / src_w, new_h / src_h])
        elif mode == "crop":
            s = max(new_w / src_w, new_h / src_h)
            xy = (xy - np.array([src_w / 2, src_h / 2])) * s + np.array([new_w / 2, new_h / 2])
        else:
            raise ValidationError("mode", "'resize' or 'crop'", repr(mode), where="Tracks.rescale")
        return self.replace(xy=xy, size=new)

    def in_canvas(self) -> np.ndarray:
        """Bool ``(T, N)``: visible and inside ``[0, W) × [0, H)``."""
        w, h = self.require_size()
        x, y = self.xy[..., 0], self.xy[..., 1]
        return self.visible & (x >= 0) & (x < w) & (y >= 0) & (y < h)
