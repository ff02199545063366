"""``preview``: a CPU animatic that moves the input image along the tracks. No weights, no diffusion.

Each frame is a backward warp of the first frame: every output pixel ``x`` samples the input at
``x + D_t(x)``, where ``D_t`` is a dense displacement field interpolated from the sparse tracks. Track
``n`` contributes, at its frame-t position ``p_t``, the displacement ``p_0 − p_t`` back to where it started
(its first-frame content, as ATI copies first-frame features along a track). The interpolation is
Shepard's inverse-distance weighting ``w = α / (d² + r²)^power`` with a smoothing radius ``r``, so:

* one moving track moves the whole image; static tracks (displacement 0) are anchors that pin their
  surroundings; between tracks the motion blends smoothly;
* a track fades out over ``fade`` frames when it becomes invisible (``α`` ramps to 0) and back in when it
  reappears, so nothing jumps.

The field is computed on a grid ``cell`` pixels apart and upsampled (bilinear) before ``cv2.remap``;
tracks are processed in chunks so memory stays bounded for thousands of tracks. This is an honest
animatic for checking a motion in seconds, not a generative model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..core.errors import ValidationError
from ..core.tracks import Tracks
from .base import GeneratedVideo, GenerationRequest, Progress, no_progress

BORDERS = ("replicate", "reflect", "constant")
CHUNK = 256


def fade_weights(visible: np.ndarray, fade: int) -> np.ndarray:
    """Per-frame track weights ``(T, N)`` in ``[0, 1]``: full while visible, ramping in over ``fade`` frames
    after a track (re)appears and out over ``fade`` frames after it disappears. Tracks visible from frame 0
    start at full weight."""
    vis = np.asarray(visible, dtype=bool)
    alpha = np.zeros(vis.shape)
    step = 1.0 / max(fade, 1)
    current = vis[0].astype(np.float64)
    for t in range(vis.shape[0]):
        current = np.where(vis[t], np.minimum(current + step, 1.0), np.maximum(current - step, 0.0))
        if t == 0:
            current = vis[0].astype(np.float64)
        alpha[t] = current
    return alpha


def displacement_field(targets: np.ndarray, displacements: np.ndarray, weights: np.ndarray,
                       shape: tuple[int, int], cell: int, radius: float, power: float) -> np.ndarray:
    """Dense ``(H, W, 2)`` backward displacement from sparse ``targets (N, 2)`` → ``displacements (N, 2)``.

    Evaluated on a ``cell``-spaced grid of pixel centres and upsampled bilinearly. Where all weights
    vanish (no visible track) the displacement is 0.
    """
    h, w = shape
    gh, gw = -(-h // cell), -(-w // cell)
    ys = (np.arange(gh) + 0.5) * cell - 0.5
    xs = (np.arange(gw) + 0.5) * cell - 0.5
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    num = np.zeros((grid.shape[0], 2))
    den = np.zeros(grid.shape[0])
    keep = weights > 0
    targets, displacements, weights = targets[keep], displacements[keep], weights[keep]
    g2 = (grid**2).sum(1)[:, None]
    for s in range(0, len(targets), CHUNK):
        tgt = targets[s:s + CHUNK]
        # |g − p|² = |g|² + |p|² − 2 g·p: one matrix product instead of an (M, N, 2) temporary.
        d2 = np.maximum(g2 + (tgt**2).sum(1)[None] - 2.0 * grid @ tgt.T, 0.0) + radius * radius
        k = weights[None, s:s + CHUNK] * (1.0 / (d2 * d2) if power == 2.0 else d2 ** -power)
        num += k @ displacements[s:s + CHUNK]
        den += k.sum(1)
    field = np.where(den[:, None] > 0, num / np.maximum(den[:, None], 1e-300), 0.0).reshape(gh, gw, 2)
    import cv2

    # Resize so that grid-centre samples land on their pixel positions (cv2's half-pixel convention).
    big = cv2.resize(field.astype(np.float32), (gw * cell, gh * cell), interpolation=cv2.INTER_LINEAR)
    return big[:h, :w]


def render_preview(image: np.ndarray, tracks: Tracks, *, cell: int = 4, radius: float = 8.0, power: float = 2.0,
                   fade: int = 5, border: str = "replicate", progress: Progress = no_progress) -> np.ndarray:
    """Animate ``image`` ``(H, W, 3)`` uint8 along ``tracks`` (on the image's canvas) → ``(T, H, W, 3)`` uint8.

    ``radius`` (px) smooths the field near tracks; ``power`` sets how quickly a track's influence falls
    off (``1/(d² + r²)^power``; higher = more local); ``cell`` is the field's grid spacing.
    """
    import cv2

    w, h = tracks.check_image(image, where="preview")
    img = np.asarray(image)
    if border not in BORDERS:
        raise ValidationError("border", " / ".join(BORDERS), repr(border), where="preview")
    if cell < 1 or radius <= 0 or power <= 0:
        raise ValidationError("options", "cell ≥ 1, radius > 0, power > 0", f"{cell}, {radius}, {power}",
                              where="preview")
    mode = {"replicate": cv2.BORDER_REPLICATE, "reflect": cv2.BORDER_REFLECT101, "constant": cv2.BORDER_CONSTANT}
    xy = tracks.xy.astype(np.float64)
    alpha = fade_weights(tracks.visible, fade)
    base_x, base_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = np.empty((tracks.num_frames, h, w, 3), dtype=np.uint8)
    out[0] = img
    progress(1, tracks.num_frames)
    for t in range(1, tracks.num_frames):
        field = displacement_field(xy[t], xy[0] - xy[t], alpha[t], (h, w), cell, radius, power)
        out[t] = cv2.remap(img, base_x + field[..., 0], base_y + field[..., 1], interpolation=cv2.INTER_LINEAR,
                           borderMode=mode[border])
        progress(t + 1, tracks.num_frames)
    return out


class PreviewBackend:
    """The ``preview`` backend: CPU, no weights; needs an image and tracks (cameras/entities arrive bridged)."""

    name = "preview"
    options: ClassVar[dict[str, str]] = {
        "cell": "field grid spacing in px (default 4)",
        "radius": "smoothing radius in px (default 8)",
        "power": "fall-off exponent of 1/(d² + r²) (default 2; higher = more local)",
        "fade": "frames over which tracks fade in/out (default 5)",
        "border": "replicate, reflect or constant",
    }

    def generate(self, request: GenerationRequest, progress: Progress = no_progress) -> GeneratedVideo:
        if request.image is None:
            raise ValidationError("image", "an input image (preview animates a first frame)", "none",
                                  where="preview")
        if request.tracks is None:
            frames = np.repeat(np.asarray(request.image)[None], request.frames, axis=0)
            return GeneratedVideo(frames=frames, fps=request.fps, info={"backend": self.name, "note": "no motion"})
        unknown = set(request.options) - set(self.options)
        if unknown:
            raise ValidationError("options", f"preview options {sorted(self.options)}", str(sorted(unknown)),
                                  where="preview")
        opts: dict[str, Any] = dict(request.options)
        frames = render_preview(request.image, request.tracks, progress=progress, **opts)
        return GeneratedVideo(frames=frames, fps=request.tracks.fps, info={"backend": self.name, **opts})
