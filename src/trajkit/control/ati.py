"""ATI's motion patch: copy first-frame latent features along point tracks into Wan's image conditioning.

Conventions (``shared/specs/ati.md`` §5–6, reproduced exactly because ATI's weights expect them):

* ``tracks``: ``(B, L, N, 4)`` or ``(L, N, 4)`` float, channels ``[t, x, y, vis]`` as made by
  :func:`trajkit.core.ati.ati_track_input`: positions in *short-edge units* (image centre 0, short side
  ``[−1, 1]``), visibility ``±1``; ``L = 4k + 1`` video frames (81 for Wan2.1).
* ``y``: Wan I2V's image conditioning ``(20, T, H, W)`` or ``(B, 20, T, H, W)`` with ``T = (L − 1)/4 + 1``
  latent frames: channels 0–3 the frame mask (1 on latent frame 0), channels 4–19 the normalised VAE latent
  of ``[image, grey frames…]``. This is exactly diffusers' ``condition`` (``WanImageToVideoPipeline``
  concatenates it after the 16 noise channels), i.e. Wan's original layout; ComfyUI stores ``1 − mask``.

The patch, per latent frame ``k ≥ 1`` (video frames ``4k−3 .. 4k``): visibility-weighted mean position
``P_k = Σ p·v / (Σ v + 1e-5)``, binarised block visibility, Gaussian weight ``exp(−τ‖P_k − g‖²)`` on the
linspace pixel grid ``g`` (align-corners style), the ``topk`` largest weights per pixel, an *unnormalised*
sum of the tracks' frame-0 features (bilinear ``grid_sample`` of latent frame 0, ``align_corners=False``,
zero padding — half a pixel off the splat grid, as in ATI), blended into the latent with ``1 − min(ω, 1)``,
and the *unclamped* weight sum ``ω`` written into all four mask channels. Latent frame 0 is untouched.

:func:`motion_patch` never builds ATI's ``(T−1, H, W, N, 2)`` difference tensor. Because the weight of a
visible track falls monotonically with its squared distance and an invisible track's weight is 0, the
``topk`` largest weights are the weights of the ``topk`` nearest visible tracks: it keeps a running top-k of
squared distances over chunks of tracks (one latent frame at a time, ``chunk_bytes`` of distances at most)
and evaluates ``exp`` only for the winners. Squared distances and weights are computed with the same float32
operations as the dense form, so results agree to rounding of the final sum; the only possible difference
is which of two tracks with bit-identical weights is kept. :func:`motion_patch_dense` is the straightforward
transcription of the spec, kept as the reference the tests and ``benchmarks/ati_patch.py`` compare against.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional

from ..core.errors import ValidationError

#: ATI's defaults: Gaussian temperature τ, tracks kept per latent pixel, training-time tail-dropout probability.
TEMPERATURE = 220.0
TOPK = 2
TAIL_DROPOUT = 0.2
#: Video frames folded into one latent frame by Wan's VAE (and the mask channels), latent channels.
FRAMES_PER_LATENT = 4
LATENT_CHANNELS = 16
MASK_CHANNELS = 4
#: ε in the visibility-weighted block mean (keep exactly: the weights were trained with it).
BLOCK_EPS = 1e-5
#: Default bound on the squared-distance buffer of :func:`motion_patch` (one latent frame, one chunk).
CHUNK_BYTES = 16 * 2**20


def latent_frames(frames: int) -> int:
    """Latent frames Wan's VAE makes of ``frames = 4k + 1`` video frames."""
    if frames < 1 or (frames - 1) % FRAMES_PER_LATENT:
        raise ValidationError("frames", "4k + 1 video frames (81 for Wan2.1)", str(frames), where="ATI motion patch")
    return (frames - 1) // FRAMES_PER_LATENT + 1


def _as_batch(tracks: torch.Tensor | Sequence[torch.Tensor],
              y: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor, bool]:
    """Validate shapes; return per-item tracks ``(L, N, 4)``, ``y`` as ``(B, 20, T, H, W)`` and whether
    the caller gave an unbatched ``y``."""
    if not isinstance(y, torch.Tensor) or y.ndim not in (4, 5):
        raise ValidationError("y", "a tensor (20, T, H, W) or (B, 20, T, H, W)",
                              str(getattr(y, "shape", type(y).__name__)), where="ATI motion patch")
    single = y.ndim == 4
    yb = y[None] if single else y
    if yb.shape[1] != MASK_CHANNELS + LATENT_CHANNELS:
        raise ValidationError("y", "20 channels (4 mask + 16 latent)", str(yb.shape[1]), where="ATI motion patch")
    if isinstance(tracks, torch.Tensor):
        if tracks.ndim == 3:
            items = [tracks]
        elif tracks.ndim == 4:
            items = list(tracks)
        else:
            raise ValidationError("tracks", "(L, N, 4) or (B, L, N, 4)", str(tuple(tracks.shape)),
                                  where="ATI motion patch")
    else:
        items = list(tracks)
    T = yb.shape[2]
    for b, tr in enumerate(items):
        if tr.ndim != 3 or tr.shape[-1] != 4:
            raise ValidationError("tracks", "(L, N, 4) per batch item", str(tuple(tr.shape)),
                                  where=f"ATI motion patch, batch item {b}")
        if latent_frames(tr.shape[0]) != T:
            raise ValidationError("tracks", f"{(T - 1) * FRAMES_PER_LATENT + 1} frames for {T} latent frames",
                                  str(tr.shape[0]), where=f"ATI motion patch, batch item {b}")
        if not torch.isfinite(tr).all():
            raise ValidationError("tracks", "finite values", "NaN or inf", where=f"ATI motion patch, batch item {b}")
    if yb.shape[0] == 1 and len(items) > 1:
        yb = yb.expand(len(items), *yb.shape[1:])
    if yb.shape[0] != len(items):
        raise ValidationError("tracks", f"{yb.shape[0]} track sets (one per batch item of y)", str(len(items)),
                              where="ATI motion patch")
    return items, yb, single


class _Blocks:
    """Per-track quantities shared by both implementations, for one batch item (float32, on ``y``'s device).

    ``P (T−1, N, 2)`` visibility-weighted block positions, ``V (T−1, N)`` binarised block visibility,
    ``features (N, 16)`` frame-0 latent features, ``xs (W,)``/``ys (H,)`` the splat grid.
    """

    def __init__(self, tracks: torch.Tensor, y0: torch.Tensor, H: int, W: int, *, training: bool,
                 tail_dropout: float, generator: torch.Generator | None) -> None:
        dev = y0.device
        tr = tracks.to(device=dev, dtype=torch.float32)
        L, N = tr.shape[0], tr.shape[1]
        p, v = tr[..., 1:3], tr[..., 3:4].clamp(0, 1)
        S = min(H, W)
        first = (p[0] / torch.tensor([W / S, H / S], dtype=torch.float32, device=dev)).clamp(-1, 1)
        if training and tail_dropout > 0:
            u = torch.rand(N, generator=generator).to(dev)
            cut = torch.rand(N, generator=generator).to(dev) * (L - 1)
            t = torch.arange(L, device=dev, dtype=torch.float32)[:, None]
            keep = ((u > tail_dropout)[None].float() + (t < cut[None]).float()).clamp(0, 1)
            v = v * keep[..., None]
        blocks = (L - 1) // FRAMES_PER_LATENT
        pb = p[1:].reshape(blocks, FRAMES_PER_LATENT, N, 2)
        vb = v[1:].reshape(blocks, FRAMES_PER_LATENT, N, 1)
        Vsum = vb.sum(dim=1)
        self.P = (pb * vb).sum(dim=1) / (Vsum + BLOCK_EPS)
        self.V = Vsum.clamp(0, 1)[..., 0]
        grid = first.reshape(1, 1, N, 2)
        sampled = functional.grid_sample(y0[None].float(), grid, mode="bilinear", padding_mode="zeros",
                                         align_corners=False)
        self.features = sampled[0, :, 0, :].T.contiguous()
        self.xs = torch.linspace(-W / S, W / S, W, dtype=torch.float32, device=dev)
        self.ys = torch.linspace(-H / S, H / S, H, dtype=torch.float32, device=dev)
        self.num_tracks = N


def _assemble(y: torch.Tensor, splat: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """``[ω ×4 (frame 0 = 1) ; latent frame 0 ; splat + y·(1 − min(ω, 1))]`` → ``(20, T, H, W)``."""
    lat = y[MASK_CHANNELS:].float()
    mask = torch.cat([torch.ones_like(omega[:1]), omega], dim=0)
    blended = splat + lat[:, 1:] * (1 - omega.clamp(0, 1))[None]
    latent = torch.cat([lat[:, :1], blended], dim=1)
    return torch.cat([mask[None].expand(MASK_CHANNELS, *mask.shape), latent], dim=0)


def _empty(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    T, H, W = y.shape[1:]
    return (torch.zeros(LATENT_CHANNELS, T - 1, H, W, device=y.device),
            torch.zeros(T - 1, H, W, device=y.device))


def _check_options(temperature: float, topk: int) -> None:
    if not (temperature > 0 and temperature < float("inf")):
        raise ValidationError("temperature", "a positive finite number (ATI: 220)", str(temperature))
    if int(topk) != topk or topk < 1:
        raise ValidationError("topk", "an integer ≥ 1 (ATI: 2)", str(topk))


def motion_patch(tracks: torch.Tensor | Sequence[torch.Tensor], y: torch.Tensor, *,
                 temperature: float = TEMPERATURE, topk: int = TOPK, chunk_bytes: int = CHUNK_BYTES,
                 training: bool = False, tail_dropout: float = TAIL_DROPOUT,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """ATI's patched conditioning ``y'`` (same shape and dtype as ``y``), memory-bounded.

    ``tracks`` may be one ``(L, N, 4)`` set, a ``(B, L, N, 4)`` batch, or a list of ``(L, N_b, 4)`` sets of
    different sizes; ``y`` is ``(20, T, H, W)`` (shared by every set) or ``(B, 20, T, H, W)``. The result is
    ``(20, T, H, W)`` for one set and an unbatched ``y``, otherwise ``(B, 20, T, H, W)``. ``training`` turns
    on ATI's tail dropout (never used at inference). Peak extra memory is about ``chunk_bytes`` plus
    ``O(topk · H · W)`` per latent frame, whatever the number of tracks.
    """
    _check_options(temperature, topk)
    items, yb, single = _as_batch(tracks, y)
    outs = []
    for tr, yi in zip(items, yb, strict=True):
        outs.append(_patch_bounded(tr, yi, temperature, int(topk), chunk_bytes, training, tail_dropout, generator))
    out = torch.stack(outs).to(y.dtype)
    return out[0] if single and len(items) == 1 else out


def _patch_bounded(tracks: torch.Tensor, y: torch.Tensor, temperature: float, topk: int, chunk_bytes: int,
                   training: bool, tail_dropout: float, generator: torch.Generator | None) -> torch.Tensor:
    T, H, W = y.shape[1:]
    if tracks.shape[1] == 0 or T == 1:
        splat, omega = _empty(y)
        return _assemble(y, splat, omega)
    b = _Blocks(tracks, y[MASK_CHANNELS:, 0], H, W, training=training, tail_dropout=tail_dropout,
                generator=generator)
    N, k = b.num_tracks, min(topk, b.num_tracks)
    per_frame = 4 * H * W  # bytes of one track's squared distances over one latent frame
    chunk = max(1, min(N, chunk_bytes // per_frame))
    frames_per_group = max(1, min(T - 1, chunk_bytes // (per_frame * N)))
    splat = torch.empty(LATENT_CHANNELS, T - 1, H, W, device=y.device)
    omega = torch.empty(T - 1, H, W, device=y.device)
    inf = torch.tensor(float("inf"), device=y.device)
    for f0 in range(0, T - 1, frames_per_group):
        fs = slice(f0, min(T - 1, f0 + frames_per_group))
        best_d2: torch.Tensor | None = None
        best_idx: torch.Tensor | None = None
        for start in range(0, N, chunk):
            stop = min(N, start + chunk)
            P = b.P[fs, start:stop]
            dx2 = (P[:, None, :, 0] - b.xs[None, :, None]) ** 2  # (f, W, c)
            dy2 = (P[:, None, :, 1] - b.ys[None, :, None]) ** 2  # (f, H, c)
            dx2 = torch.where(b.V[fs, None, start:stop] > 0, dx2, inf)  # hidden in this block: weight 0
            d2 = dx2[:, None, :, :] + dy2[:, :, None, :]  # (f, H, W, c): the same sum as ATI's (x², y²).sum(-1)
            idx = torch.arange(start, stop, device=y.device).expand_as(d2)
            if best_d2 is not None:
                d2 = torch.cat([best_d2, d2], dim=-1)
                idx = torch.cat([best_idx, idx], dim=-1)
            best_d2, pos = torch.topk(d2, min(k, d2.shape[-1]), dim=-1, largest=False, sorted=False)
            best_idx = torch.gather(idx, -1, pos)
        assert best_d2 is not None and best_idx is not None
        # ATI's weight is exp(−τ·d²)·V with V ∈ {0, 1}; hidden tracks already carry d² = inf → weight 0.
        weights = torch.exp(-temperature * best_d2)
        splat[:, fs] = torch.einsum("fijm,fijmc->cfij", weights, b.features[best_idx])
        omega[fs] = weights.sum(dim=-1)
    return _assemble(y, splat, omega)


def motion_patch_dense(tracks: torch.Tensor, y: torch.Tensor, *, temperature: float = TEMPERATURE,
                       topk: int = TOPK) -> torch.Tensor:
    """The motion patch transcribed directly from the spec (inference mode, one ``(L, N, 4)`` set,
    ``y (20, T, H, W)``): builds the full ``(T−1, H, W, N, 2)`` difference tensor, ≈ 320·H·W bytes per
    track for 81 frames, and frees it as ATI's ``patch_motion`` does (peak ≈ that of ATI's code).
    Reference for tests and benchmarks; use :func:`motion_patch`."""
    _check_options(temperature, topk)
    items, yb, _ = _as_batch(tracks, y)
    y = yb[0]
    H, W = y.shape[2:]
    b = _Blocks(items[0], y[MASK_CHANNELS:, 0], H, W, training=False, tail_dropout=0.0, generator=None)
    grid = torch.stack(torch.meshgrid(b.ys, b.xs, indexing="ij")[::-1], dim=-1)  # (H, W, 2) = (x, y)
    # One expression, as ATI's code: the (T−1, H, W, N, 2) difference and its square are temporaries, freed as
    # soon as the next operation has consumed them (a named ``diff`` would stay alive: ≈ 1.25× ATI's peak).
    d2 = (b.P[:, None, None, :, :] - grid[None, :, :, None, :]).pow(2).sum(dim=-1)
    w = torch.exp(-d2 * temperature) * b.V[:, None, None, :]
    wk, idx = torch.topk(w, min(int(topk), b.num_tracks), dim=-1)
    splat = (wk[..., None] * b.features[idx]).sum(dim=-2).permute(3, 0, 1, 2)
    return _assemble(y, splat, wk.sum(dim=-1)).to(y.dtype)


def window_active(step: int, steps: int, window: tuple[float, float] = (0.0, 1.0)) -> bool:
    """Whether denoising step ``step`` (0-based, of ``steps``) uses the patched conditioning.

    ``window = (start, end)`` are fractions of the schedule, as ComfyUI's ``start_percent``/``end_percent``:
    step ``i`` is patched when ``start ≤ i / steps < end``, or ``end = 1`` and ``i / steps ≥ start``.
    ``(0, 1)`` (ATI) patches every step; ``(0, 0.5)`` the first half; ``(0, 0)`` none.
    """
    start, end = window
    frac = step / max(steps, 1)
    return start <= frac and (frac < end or end >= 1.0)


def check_window(window: Sequence[float]) -> tuple[float, float]:
    """Validate a ``(start, end)`` step window (fractions, ``0 ≤ start ≤ end ≤ 1``)."""
    try:
        start, end = (float(v) for v in window)
    except (TypeError, ValueError) as exc:
        raise ValidationError("window", "two fractions (start, end)", repr(window)) from exc
    if not (0.0 <= start <= end <= 1.0):
        raise ValidationError("window", "0 ≤ start ≤ end ≤ 1", f"({start}, {end})")
    return start, end
