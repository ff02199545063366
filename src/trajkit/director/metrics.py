"""Caption agreement: GenDoP's caption F-score (``shared/specs/gendop.md`` §8.5).

Both paths are tagged (§7.2–7.4); their per-step labels (119 for 120 frames) are compared as a multiclass
problem over the 189 labels, F1 averaged with weights = target support (torchmetrics ``average="weighted"``,
``zero_division=0``), over all steps of all pairs concatenated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .tagging import NUM_LABELS, Segment


def frame_labels(segments: Sequence[Segment]) -> np.ndarray:
    """Per-step labels ``(end + 1,)`` of tagged segments."""
    if not segments:
        return np.zeros(0, dtype=np.int64)
    out = np.empty(segments[-1].end + 1, dtype=np.int64)
    for s in segments:
        out[s.start:s.end + 1] = s.label
    return out


def weighted_f1(predicted: np.ndarray, target: np.ndarray, classes: int = NUM_LABELS) -> dict[str, float]:
    """Support-weighted precision, recall and F1 over ``classes`` (absent classes weigh 0; 0/0 counts as 0)."""
    predicted, target = np.asarray(predicted).ravel(), np.asarray(target).ravel()
    if predicted.shape != target.shape or not len(target):
        raise ValueError(f"label arrays differ or are empty: {predicted.shape} vs {target.shape}")
    tp = np.bincount(target[predicted == target], minlength=classes).astype(float)
    pred_count = np.bincount(predicted, minlength=classes).astype(float)
    support = np.bincount(target, minlength=classes).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(pred_count > 0, tp / pred_count, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    weights = support / support.sum()
    return {"precision": float(weights @ precision), "recall": float(weights @ recall), "fscore": float(weights @ f1)}


def caption_fscore(predicted: Sequence[Sequence[Segment]], target: Sequence[Sequence[Segment]]) -> dict[str, float]:
    """GenDoP's caption F-score of tagged predictions against tagged references (lists of segment lists)."""
    if len(predicted) != len(target):
        raise ValueError(f"{len(predicted)} predictions for {len(target)} references")
    return weighted_f1(np.concatenate([frame_labels(p) for p in predicted]),
                       np.concatenate([frame_labels(t) for t in target]))
