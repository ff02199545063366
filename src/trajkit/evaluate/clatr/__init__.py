"""CLaTr, GenDoP's evaluation model, and its metrics (``shared/specs/gendop.md`` §4.4, §8).

- :mod:`.features` — the ``[120, 9]`` rot6d + velocity trajectory features and their inverse (NumPy);
- :mod:`.model` — the encoders and decoder with the released checkpoints' key layout (torch);
- :mod:`.checkpoint` — safe loading of Lightning ``.ckpt`` (``weights_only`` + allow-list) and ``.safetensors``;
- :mod:`.text` — CLIP ViT-B/32 text features through transformers, offline first;
- :mod:`.metrics` — CLaTr score, FCD, PRDC coverage (NumPy);
- :mod:`.losses` — the training losses (reconstruction, KL, latent, filtered InfoNCE);
- :mod:`.evaluation` — (prompts, generated paths, reference paths) → the four metrics.

Torch-backed names are imported on first use so that ``import trajkit.evaluate.clatr`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .features import FEATURES, FRAMES, camera_features, features_to_matrices, trajectory_features
from .metrics import clatr_score, coverage, fcd, prdc

_LAZY = {
    "CLaTr": "model", "CLaTrConfig": "model",
    "CLaTrCheckpointError": "checkpoint", "load_clatr": "checkpoint", "save_clatr": "checkpoint",
    "ClipText": "text", "TextFeatures": "text", "encode_clip_text": "text", "load_clip_text": "text",
    "Extraction": "evaluation", "extract": "evaluation", "evaluate_director": "evaluation",
    "metrics_from_extraction": "evaluation",
    "CLaTrLosses": "losses", "LossWeights": "losses", "clatr_loss": "losses",
}

__all__ = ["FEATURES", "FRAMES", "camera_features", "clatr_score", "coverage", "fcd", "features_to_matrices", "prdc",
           "trajectory_features", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
