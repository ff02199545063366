"""CLaTr's training losses (GenDoP/TMR; ``shared/specs/gendop.md`` §8.4), as functions on tensors.

Shapes: trajectory features ``(B, T, 9)``, text features ``(B, L, W)`` with mask ``(B, L)`` (True = valid),
EOT caption tokens ``(B, W)``, distributions ``(μ, log σ²)`` each ``(B, D)``, latents ``(B, D)``.
Total = 1·recons + 1e-5·kl + 1e-5·latent + 0.1·contrastive (the released weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F  # noqa: N812 - the usual torch alias

from ...core.errors import ValidationError
from .model import CLaTr

Dist = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class LossWeights:
    """Weights of the four terms in the total."""

    recons: float = 1.0
    kl: float = 1e-5
    latent: float = 1e-5
    contrastive: float = 0.1


@dataclass(frozen=True)
class CLaTrLosses:
    """The weighted total and each unweighted term (0-d tensors; ``total`` carries the graph)."""

    total: torch.Tensor
    recons: torch.Tensor
    kl: torch.Tensor
    latent: torch.Tensor
    contrastive: torch.Tensor


def kl_divergence(q: Dist, p: Dist) -> torch.Tensor:
    """Element mean of KL(q‖p) for diagonal Gaussians: ½(e^(lv_q−lv_p) + (μ_p−μ_q)²/e^(lv_p) − 1 − (lv_q−lv_p))."""
    ratio = q[1] - p[1]
    return (0.5 * (ratio.exp() + (p[0] - q[0]).pow(2) / p[1].exp() - 1 - ratio)).mean()


def kl_loss(text: Dist, traj: Dist) -> torch.Tensor:
    """KL(t‖m) + KL(m‖t) + KL(m‖N(0,I)) + KL(t‖N(0,I))."""
    prior = (torch.zeros_like(traj[0]), torch.zeros_like(traj[1]))
    return (kl_divergence(text, traj) + kl_divergence(traj, text)
            + kl_divergence(traj, prior) + kl_divergence(text, prior))


def reconstruction_loss(from_text: torch.Tensor, from_traj: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """SmoothL1 (β 1, mean over all elements) of text→traj plus that of traj→traj, both against ``reference``."""
    return F.smooth_l1_loss(from_text, reference) + F.smooth_l1_loss(from_traj, reference)


def latent_loss(z_text: torch.Tensor, z_traj: torch.Tensor) -> torch.Tensor:
    """SmoothL1 (β 1, element mean) between the sampled text and trajectory latents."""
    return F.smooth_l1_loss(z_text, z_traj)


def contrastive_loss(z_text: torch.Tensor, z_traj: torch.Tensor, tokens: torch.Tensor | None = None, *,
                     temperature: float = 0.1, threshold: float = 0.995) -> torch.Tensor:
    """Symmetric InfoNCE on cosine logits / ``temperature``; row i's positive is column i.

    Off-diagonal pairs whose caption tokens have cosine > ``2·threshold − 1`` (0.99 by default) are
    near-duplicate captions and are set to −inf (not negatives). ``tokens=None`` masks nothing.
    """
    logits = F.normalize(z_text, dim=-1) @ F.normalize(z_traj, dim=-1).T / temperature
    if tokens is not None and threshold:
        unit = tokens / tokens.norm(dim=1, keepdim=True)
        selfsim = unit @ unit.T
        selfsim = selfsim - torch.diag(torch.diag(selfsim))
        logits = logits.masked_fill(selfsim > 2 * threshold - 1, float("-inf"))
    labels = torch.arange(len(z_text), device=z_text.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def _check(features: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor, tokens: torch.Tensor,
           model: CLaTr) -> None:
    b = features.shape[0]
    cfg = model.config
    checks = (("features", features, (b, features.shape[1] if features.ndim == 3 else -1, cfg.traj_features)),
              ("text", text, (b, text.shape[1] if text.ndim == 3 else -1, cfg.text_features)),
              ("text_mask", text_mask, tuple(text.shape[:2])),
              ("tokens", tokens, (b, tokens.shape[-1] if tokens.ndim == 2 else -1)))
    for name, value, shape in checks:
        if tuple(value.shape) != shape:
            raise ValidationError(name, f"shape {shape}", str(tuple(value.shape)), where="CLaTr loss")
    if b < 1:
        raise ValidationError("features", "a batch of at least one", "0", where="CLaTr loss")


def clatr_loss(model: CLaTr, features: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor,
               tokens: torch.Tensor, *, frame_mask: torch.Tensor | None = None,
               weights: LossWeights = LossWeights(), temperature: float = 0.1, threshold: float = 0.995,
               generator: torch.Generator | None = None) -> CLaTrLosses:
    """All CLaTr training terms for one batch, as the original ``compute_loss``.

    Order of random draws (ε from ``generator``, dropout from the global RNG in train mode): text encode,
    text ε, text decode, trajectory encode, trajectory ε, trajectory decode. Both decodes use the frame mask
    (all frames by default); latents are random draws (never μ), as in training.
    """
    _check(features, text, text_mask, tokens, model)
    mask = torch.ones(features.shape[:2], dtype=torch.bool, device=features.device) if frame_mask is None \
        else frame_mask.to(torch.bool)
    t_dist = model.encode_text(text, text_mask.to(torch.bool))
    z_text = model.sample(*t_dist, generator=generator)
    from_text = model.decode(z_text, mask)
    m_dist = model.encode_trajectory(features, mask)
    z_traj = model.sample(*m_dist, generator=generator)
    from_traj = model.decode(z_traj, mask)
    recons = reconstruction_loss(from_text, from_traj, features)
    kl = kl_loss(t_dist, m_dist)
    latent = latent_loss(z_text, z_traj)
    contrastive = contrastive_loss(z_text, z_traj, tokens, temperature=temperature, threshold=threshold)
    total = (weights.recons * recons + weights.kl * kl + weights.latent * latent
             + weights.contrastive * contrastive)
    return CLaTrLosses(total, recons, kl, latent, contrastive)
