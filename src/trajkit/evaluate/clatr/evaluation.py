"""GenDoP's evaluation end to end: (prompts, generated camera paths, reference paths) → the four metrics.

Follows ``shared/specs/gendop.md`` §8.1–8.5:

1. CLIP ViT-B/32 text features of each prompt (:mod:`.text`); CLaTr features of each path (:mod:`.features`).
2. CLaTr extraction per batch of ``batch_size`` (32 in GenDoP): encode the text, the reference and the
   generated path, draw one latent each (in that order; ``sample_mean`` takes μ instead — GenDoP leaves it
   False, so its numbers vary between runs; pass ``seed`` to make draws reproducible), decode each latent
   over the reference's frame mask (all frames).
3. Metrics: ``clatr_score`` (generated vs text latents), ``fcd`` and PRDC ``coverage`` (references as real,
   generated as fake), and the caption F-score of the tags of the CLaTr **reconstructions** of generated vs
   reference paths (``caption_source="reconstruction"``, GenDoP's choice) or of the paths themselves
   (``"raw"``).

Paths are trajkit :class:`CameraPath` objects (OpenCV axes) or arrays ``(N, T, 4, 4)`` of GenDoP-style OpenGL
camera-to-world matrices, used at the scale given (GenDoP feeds normalised predictions against raw-scale
references; rescale before calling to avoid that mismatch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ...core.camera import CameraPath
from ...core.conventions import opencv_to_opengl
from ...core.errors import ValidationError
from ...director.metrics import caption_fscore
from ...director.tagging import tag_poses
from .features import FRAMES, features_to_matrices, trajectory_features
from .metrics import CHUNKS, clatr_score, fcd, prdc
from .model import CLaTr
from .text import TextFeatures

Paths = Sequence[CameraPath] | np.ndarray


@dataclass(frozen=True)
class Extraction:
    """What GenDoP's ``src.extraction`` saves: latents ``(N, D)``, reconstructed features ``(N, T, 9)`` and
    relative OpenGL matrices ``(N, T, 4, 4)`` (``ref_matrices`` = the reference's features turned back)."""

    t_latents: np.ndarray
    m_ref_latents: np.ndarray
    m_pred_latents: np.ndarray
    t_features: np.ndarray
    m_ref_features: np.ndarray
    m_pred_features: np.ndarray
    ref_matrices: np.ndarray
    t_matrices: np.ndarray
    m_ref_matrices: np.ndarray
    m_pred_matrices: np.ndarray


def gl_matrices(paths: Paths, name: str) -> np.ndarray:
    """``(N, T, 4, 4)`` OpenGL camera-to-world matrices of camera paths (or of such an array, checked)."""
    if isinstance(paths, np.ndarray):
        out = np.asarray(paths, dtype=np.float64)
    else:
        paths = list(paths)
        if not paths:
            raise ValidationError(name, "at least one camera path", "none", where="CLaTr evaluation")
        lengths = {p.num_frames for p in paths}
        if len(lengths) != 1:
            raise ValidationError(name, "paths of one length", f"lengths {sorted(lengths)}",
                                  where="CLaTr evaluation")
        out = np.stack([opencv_to_opengl(np.asarray(p.c2w)) for p in paths])
    if out.ndim != 4 or out.shape[-2:] != (4, 4) or out.shape[0] < 1:
        raise ValidationError(name, "(N, T, 4, 4) camera-to-world matrices", str(out.shape), where="CLaTr evaluation")
    return out


@torch.no_grad()
def extract(model: CLaTr, text: TextFeatures, references: Paths, generated: Paths, *, sample_mean: bool = False,
            seed: int | None = None, batch_size: int = 32, frames: int | None = FRAMES) -> Extraction:
    """CLaTr latents and reconstructions of paired (prompt, reference, generated path) triples.

    ``seed=None`` draws from torch's global generator (GenDoP's behaviour); ``frames`` is the path length the
    model expects (the released checkpoints: 120; ``None`` accepts any).
    """
    ref = gl_matrices(references, "references")
    gen = gl_matrices(generated, "generated")
    n = len(text)
    if ref.shape != gen.shape or ref.shape[0] != n:
        raise ValidationError("paths", f"{n} references and {n} generated paths of equal length (one per prompt)",
                              f"references {ref.shape[:2]}, generated {gen.shape[:2]}", where="CLaTr evaluation")
    if frames is not None and ref.shape[1] != frames:
        raise ValidationError("paths", f"{frames} frames per path (resample with CameraPath.resample({frames}))",
                              f"{ref.shape[1]}", where="CLaTr evaluation")
    if text.seq.shape[-1] != model.config.text_features:
        raise ValidationError("text features", f"width {model.config.text_features} (what this CLaTr reads)",
                              f"width {text.seq.shape[-1]}", where="CLaTr evaluation")
    if batch_size < 1:
        raise ValidationError("batch_size", "≥ 1", str(batch_size), where="CLaTr evaluation")
    generator = None if seed is None else torch.Generator().manual_seed(int(seed))
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    ref_feat = torch.from_numpy(trajectory_features(ref))
    gen_feat = torch.from_numpy(trajectory_features(gen))
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in ("t", "r", "g", "tf", "rf", "gf")}
    model.eval()
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        mask = torch.ones(ref_feat[sl].shape[:2], dtype=torch.bool, device=device)
        for key, (mu, logvar) in (
                ("t", model.encode_text(text.seq[sl].to(device, dtype), text.mask[sl].to(device))),
                ("r", model.encode_trajectory(ref_feat[sl].to(device, dtype), mask)),
                ("g", model.encode_trajectory(gen_feat[sl].to(device, dtype), mask))):
            # the draw happens on the CPU so that a seed gives the same numbers on every device
            z = model.sample(mu.float().cpu(), logvar.float().cpu(), sample_mean=sample_mean, generator=generator)
            parts[key].append(z)
            parts[key + "f"].append(model.decode(z.to(device, dtype), mask).float().cpu())
    out = {k: torch.cat(v).numpy() for k, v in parts.items()}
    return Extraction(
        t_latents=out["t"], m_ref_latents=out["r"], m_pred_latents=out["g"],
        t_features=out["tf"], m_ref_features=out["rf"], m_pred_features=out["gf"],
        ref_matrices=features_to_matrices(ref_feat.numpy()), t_matrices=features_to_matrices(out["tf"]),
        m_ref_matrices=features_to_matrices(out["rf"]), m_pred_matrices=features_to_matrices(out["gf"]))


def caption_scores(generated_gl: np.ndarray, reference_gl: np.ndarray) -> dict[str, float]:
    """Caption precision / recall / F-score of tagged OpenGL paths ``(N, T, 4, 4)`` (generated vs reference)."""
    scores = caption_fscore([tag_poses(p) for p in generated_gl], [tag_poses(p) for p in reference_gl])
    return {f"caption_{k}": v for k, v in scores.items()}


def metrics_from_extraction(extraction: Extraction, *, chunks: int = CHUNKS, recall_bug: bool = True,
                            caption_source: str = "reconstruction", references: Paths | None = None,
                            generated: Paths | None = None) -> dict[str, float]:
    """GenDoP's metrics (``clatr_score``, ``fcd``, ``coverage``, ``caption_fscore``, plus PRDC precision,
    recall, density and caption precision / recall) of an extraction."""
    e = extraction
    out: dict[str, float] = {"clatr_score": clatr_score(e.m_pred_latents, e.t_latents),
                             "fcd": fcd(e.m_ref_latents, e.m_pred_latents)}
    out.update(prdc(e.m_ref_latents, e.m_pred_latents, chunks=chunks, recall_bug=recall_bug))
    if caption_source == "reconstruction":
        out.update(caption_scores(e.m_pred_matrices, e.m_ref_matrices))
    elif caption_source == "raw":
        if references is None or generated is None:
            raise ValidationError("caption_source", "the paths themselves with caption_source='raw'", "none given",
                                  where="CLaTr evaluation")
        out.update(caption_scores(gl_matrices(generated, "generated"), gl_matrices(references, "references")))
    else:
        raise ValidationError("caption_source", "'reconstruction' or 'raw'", repr(caption_source),
                              where="CLaTr evaluation")
    return out


def evaluate_director(prompts: Sequence[str], generated: Paths, references: Paths, *, model: CLaTr,
                      text_encoder: Callable[[list[str]], TextFeatures], sample_mean: bool = False,
                      seed: int | None = None, batch_size: int = 32, chunks: int = CHUNKS,
                      recall_bug: bool = True, caption_source: str = "reconstruction",
                      frames: int | None = FRAMES) -> dict[str, float]:
    """The four GenDoP metrics of generated paths against references for their prompts (one of each per item).

    ``text_encoder`` maps prompts to :class:`TextFeatures` of the width ``model`` reads (``ClipText()`` for the
    released checkpoints). Returns the metrics plus ``samples``.
    """
    prompts = list(prompts)
    text = text_encoder(prompts)
    extraction = extract(model, text, references, generated, sample_mean=sample_mean, seed=seed,
                         batch_size=batch_size, frames=frames)
    out = metrics_from_extraction(extraction, chunks=chunks, recall_bug=recall_bug, caption_source=caption_source,
                                  references=references, generated=generated)
    out["samples"] = float(len(prompts))
    return out
