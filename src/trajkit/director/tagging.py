"""DataDoP's camera-motion tagger: per-step motion classes, cleaned into at most four segments.

Reproduces GenDoP's tagger (``shared/specs/gendop.md`` §7.2–7.5) exactly, so tags agree with the DataDoP
``Movement`` captions and with GenDoP's caption F1 metric:

1. From ``T`` camera-to-world poses in **OpenGL** camera axes (x right, y up, looking along −z), raw scale:
   the relative motion ``V_k = P_k⁻¹ P_{k+1}`` in camera k's own axes (poses cast to float32, products in
   float64) gives ``T − 1`` steps; velocity ``v = 30 · t(V_k)`` (fps 30), angular step ``ω`` = rotation vector
   of ``R(V_k)`` (no fps factor).
2. Translation: axes with ``|v| > 0.02`` are active; between two active axes with relative difference
   ``(|a| − |b|) / max(|a|, |b|)`` beyond ±0.4 only the dominant one stays (all three: the x/y, x/z, y/z
   rules in that order, each on the original ratios); ``cam = 9·d(x) + 3·d(y) + d(z)`` with ``d(+) = 1``,
   ``d(−) = 2`` (+z is backward, −z forward).
3. Rotation: if ``max|ω| > 0.005`` the axis strictly larger than both others: pitch up/down (±x), yaw
   left/right (±y), roll left/right (±z).
4. Label ``7·cam + rot`` (189 classes). Clean-up: mode filter of width ``w`` (ties → smallest label) and
   removal of runs shorter than ``m`` (neighbours absorb them; equal neighbours are not merged in the run
   list), both from the original labels, with ``(w, m) = (15, 10), (20, 15), …`` until ≤ 4 runs remain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.camera import CameraPath
from ..core.conventions import opencv_to_opengl
from ..core.errors import ValidationError
from ..core.rotations import matrix_to_axis_angle

FPS = 30.0
STATIC_SPEED = 0.02
DOMINANCE = 0.4
STATIC_ANGLE = 0.005
WINDOW, MIN_RUN, GROWTH, MAX_RUNS = 15, 10, 5, 4

#: Translation classes (index = 9·d(x) + 3·d(y) + d(z)).
TRANSLATIONS = (
    "static", "backward", "forward", "up", "up and backward", "up and forward", "down", "down and backward",
    "down and forward", "right", "right and backward", "right and forward", "right and up",
    "right, up, and backward", "right, up, and forward", "right and down", "right, down, and backward",
    "right, down, and forward", "left", "left and backward", "left and forward", "left and up",
    "left, up, and backward", "left, up, and forward", "left and down", "left, down, and backward",
    "left, down, and forward",
)
#: Rotation classes.
ROTATIONS = ("static", "pitch up", "pitch down", "yaw left", "yaw right", "roll left", "roll right")
NUM_LABELS = len(TRANSLATIONS) * len(ROTATIONS)


def label_name(label: int) -> str:
    """DataDoP's name of a label: ``"move right + yaw left"``, ``"static"``, ``"static + pitch up"`` …"""
    cam, rot = divmod(int(label), len(ROTATIONS))
    move = "static" if cam == 0 else f"move {TRANSLATIONS[cam]}"
    return move if rot == 0 else f"{move} + {ROTATIONS[rot]}"


@dataclass(frozen=True)
class Segment:
    """A run of one motion label over steps ``start..end`` (inclusive; step k = motion from frame k to k+1)."""

    label: int
    start: int
    end: int

    @property
    def translation(self) -> str:
        return TRANSLATIONS[self.label // len(ROTATIONS)]

    @property
    def rotation(self) -> str:
        return ROTATIONS[self.label % len(ROTATIONS)]

    @property
    def name(self) -> str:
        return label_name(self.label)


def _dominant(active: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Apply the dominance rule to one step's active axes (bool (3,)) with magnitudes ``|v|``."""

    def ratio(a: int, b: int) -> float:
        top = max(mag[a], mag[b])
        return 0.0 if top == 0 else (mag[a] - mag[b]) / top

    keep = active.copy()
    if active.sum() == 2:
        a, b = np.flatnonzero(active)
        r = ratio(a, b)
        if r > DOMINANCE:
            keep[b] = False
        elif r < -DOMINANCE:
            keep[a] = False
    elif active.sum() == 3:
        for a, b in ((0, 1), (0, 2), (1, 2)):
            r = ratio(a, b)
            if r > DOMINANCE:
                keep[b] = False
            elif r < -DOMINANCE:
                keep[a] = False
    return keep


def step_labels(c2w_gl: np.ndarray) -> np.ndarray:
    """Per-step labels ``(T − 1,)`` int in ``0..188`` of camera-to-world poses ``(T, 4, 4)`` in OpenGL axes."""
    P = np.asarray(c2w_gl)
    if P.ndim != 3 or P.shape[1:] != (4, 4) or P.shape[0] < 2:
        raise ValidationError("c2w", "(T ≥ 2, 4, 4) camera-to-world matrices", str(P.shape), where="tagger")
    if not np.isfinite(P).all():
        raise ValidationError("c2w", "finite values", "NaN or inf", where="tagger")
    P = P.astype(np.float32).astype(np.float64)
    V = np.linalg.inv(P[:-1]) @ P[1:]
    velocity = FPS * V[:, :3, 3]
    omega = matrix_to_axis_angle(V[:, :3, :3])
    labels = np.empty(len(V), dtype=np.int64)
    digit = {0: 0, 1: 1, -1: 2}
    for k in range(len(V)):
        mag = np.abs(velocity[k])
        keep = _dominant(mag > STATIC_SPEED, mag)
        signs = np.where(keep, np.sign(velocity[k]), 0).astype(int)
        cam = 9 * digit[signs[0]] + 3 * digit[signs[1]] + digit[signs[2]]
        rot = 0
        w = np.abs(omega[k])
        if w.max() > STATIC_ANGLE:
            for axis in range(3):
                others = [w[j] for j in range(3) if j != axis]
                if w[axis] > others[0] and w[axis] > others[1]:
                    rot = 1 + 2 * axis + (0 if omega[k, axis] > 0 else 1)
        labels[k] = 7 * cam + rot
    return labels


def mode_filter(labels: np.ndarray, window: int) -> np.ndarray:
    """Most frequent label in a centred window of ``2⌊window/2⌋ + 1`` (clipped at the ends; ties → smallest)."""
    n, half = len(labels), window // 2
    if n < window:
        return labels.copy()
    out = np.empty_like(labels)
    for i in range(n):
        values, counts = np.unique(labels[max(0, i - half): min(n - 1, i + half) + 1], return_counts=True)
        out[i] = values[np.argmax(counts)]  # unique sorts, argmax takes the first maximum: smallest label
    return out


def remove_short_runs(labels: np.ndarray, min_run: int) -> list[list[int]]:
    """Runs ``[label, start, end]`` after absorbing runs shorter than ``min_run`` into their neighbours."""
    runs: list[list[int]] = []
    for i, lab in enumerate(labels.tolist()):
        if runs and runs[-1][0] == lab:
            runs[-1][2] = i
        else:
            runs.append([lab, i, i])
    while len(runs) > 1:
        lengths = [r[2] - r[1] + 1 for r in runs]
        j = int(np.argmin(lengths))
        shortest = lengths[j]
        if shortest >= min_run:
            break
        if j == 0:
            runs[1][1] -= shortest
        elif j == len(runs) - 1:
            runs[j - 1][2] += shortest
        else:
            runs[j - 1][2] += (shortest + 1) // 2
            runs[j + 1][1] -= shortest // 2
        del runs[j]
    return runs


def _flatten(runs: list[list[int]]) -> list[Segment]:
    merged: list[Segment] = []
    for lab, start, end in runs:
        if merged and merged[-1].label == lab:
            merged[-1] = Segment(lab, merged[-1].start, end)
        else:
            merged.append(Segment(lab, start, end))
    return merged


def clean_labels(labels: np.ndarray, window: int = WINDOW, min_run: int = MIN_RUN,
                 max_runs: int = MAX_RUNS) -> tuple[list[Segment], int]:
    """Segments of the cleaned labels and the number of clean-up rounds it took."""
    labels = np.asarray(labels, dtype=np.int64)
    rounds = 0
    while True:
        rounds += 1
        segments = _flatten(remove_short_runs(mode_filter(labels, window), min_run))
        if len(segments) <= max_runs:
            return segments, rounds
        window += GROWTH
        min_run += GROWTH


def tag_poses(c2w_gl: np.ndarray) -> list[Segment]:
    """DataDoP's segments of OpenGL camera-to-world poses (raw scale)."""
    return clean_labels(step_labels(c2w_gl))[0]


def tag(camera: CameraPath) -> list[Segment]:
    """DataDoP's segments of a camera path (any scale convention the tagger's absolute thresholds expect:
    DataDoP's raw MonST3R units at 30 fps; 120 frames in the dataset)."""
    return tag_poses(opencv_to_opengl(np.asarray(camera.c2w)))


def outline(segments: list[Segment]) -> str:
    """DataDoP's outline string that was given to the captioning LLM."""
    total = segments[-1].end + 1 if segments else 0
    parts = [f"Between frames {s.start} and {s.end}: {s.name}" for s in segments]
    return f"\n\nOutline: Total frames {total}. \n[Camera motion] " + "; ".join(parts) + ". "
