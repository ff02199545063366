"""GenDoP's camera tokenizer: a camera path ↔ 10 tokens per pose in 256 bins (``shared/specs/gendop.md`` §2).

Per pose (``poses`` of them, frames ``0, stride, 2·stride, …`` with ``stride = T // poses``), in GenDoP's
OpenGL camera axes, relative to the first pose and with translations divided by
``s = max‖t'‖ + 1e-5`` (float64), then in float32:

=====  ============================  ===========================  ===========================
slot   quantity                      scaled to 0..256              decoded
=====  ============================  ===========================  ===========================
0–3    quaternion (w, x, y, z) of R'  ``(q + 1) · 0.5 · 256``       ``bin/128 − 1``
4–6    t' / s                         ``(t + 1) · 0.5 · 256``       ``bin/128 − 1``
7, 8   fx / W, fy / H                 ``v / 10 · 256``              ``bin / 25.6``
9      log10 s                        ``(log10 s + 2) / 4 · 256``   ``10^(bin/64 − 2)``
=====  ============================  ===========================  ===========================

``bin = floor(clip(x, 0, 256))`` (257 values). Token ids: PAD 0, BOS 1, EOS 2 and ``id = bin + offset`` —
``offset = 3`` is GenDoP's current code, ``offset = 0`` what its released checkpoints were trained with
(bins 0–2 then share ids with PAD/BOS/EOS). ``slots`` selects a subset of the ten for smaller models.
GenDoP decodes the scale with ``exp`` instead of ``10^`` (a bug that only scaled its plots); ``decode``
uses ``10^`` unless ``gendop_scale=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.camera import CameraPath, intrinsics_matrix
from ..core.conventions import opencv_to_opengl
from ..core.errors import ValidationError
from ..core.rotations import quaternion_to_matrix

PAD, BOS, EOS = 0, 1, 2
BINS = 256
ALL_SLOTS = tuple(range(10))
#: The static trajectory GenDoP substitutes when a generation has the wrong length (bins per pose).
STATIC_DUMMY = (256, 128, 128, 128, 128, 128, 128, 36, 64, 60)


def quaternion_wxyz(R: np.ndarray) -> np.ndarray:
    """GenDoP's four-branch matrix → quaternion (w first) in ``R``'s dtype, no sign canonicalisation."""
    R = np.asarray(R)
    q = np.empty((*R.shape[:-2], 4), dtype=R.dtype)
    flat_R, flat_q = R.reshape(-1, 3, 3), q.reshape(-1, 4)
    one, two, four = R.dtype.type(1), R.dtype.type(2), R.dtype.type(4)
    for n, m in enumerate(flat_R):
        tr = one + m[0, 0] + m[1, 1] + m[2, 2]
        if tr > 0:
            w = np.sqrt(tr) / two
            flat_q[n] = (w, (m[2, 1] - m[1, 2]) / (four * w), (m[0, 2] - m[2, 0]) / (four * w),
                         (m[1, 0] - m[0, 1]) / (four * w))
        elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
            S = np.sqrt(one + m[0, 0] - m[1, 1] - m[2, 2]) * two
            flat_q[n] = ((m[2, 1] - m[1, 2]) / S, S / four, (m[0, 1] + m[1, 0]) / S, (m[0, 2] + m[2, 0]) / S)
        elif m[1, 1] > m[2, 2]:
            S = np.sqrt(one + m[1, 1] - m[0, 0] - m[2, 2]) * two
            flat_q[n] = ((m[0, 2] - m[2, 0]) / S, (m[0, 1] + m[1, 0]) / S, S / four, (m[1, 2] + m[2, 1]) / S)
        else:
            S = np.sqrt(one + m[2, 2] - m[0, 0] - m[1, 1]) * two
            flat_q[n] = ((m[1, 0] - m[0, 1]) / S, (m[0, 2] + m[2, 0]) / S, (m[1, 2] + m[2, 1]) / S, S / four)
    return q


@dataclass(frozen=True)
class CameraTokenizer:
    """Camera path ↔ token ids. Defaults are GenDoP's (30 poses × 10 slots, offset 3 = its current code)."""

    poses: int = 30
    offset: int = 3
    slots: tuple[int, ...] = field(default=ALL_SLOTS)
    #: ``"first"``: every pose relative to the first (GenDoP). ``"previous"``: every pose relative to the one before
    #: it, in that camera's own frame (pose 0 is the identity), translations divided by the longest step — the
    #: per-step motion the tagger reads; trajkit's small models learn it far faster than absolute poses. Step
    #: quaternions resolve ≈ 0.9° per pose step, so turns slower than that (DataDoP's subtle drifts) are lost.
    relative_to: str = "first"

    def __post_init__(self) -> None:
        if self.poses < 2:
            raise ValidationError("poses", "at least 2", str(self.poses), where="CameraTokenizer")
        if self.offset not in (0, 3):
            raise ValidationError("offset", "0 (GenDoP's released checkpoints) or 3 (its current code)",
                                  str(self.offset), where="CameraTokenizer")
        if not self.slots or sorted(set(self.slots)) != list(self.slots) or not set(self.slots) <= set(ALL_SLOTS):
            raise ValidationError("slots", "increasing slot numbers from 0..9", str(self.slots),
                                  where="CameraTokenizer")
        if self.relative_to not in ("first", "previous"):
            raise ValidationError("relative_to", "first (GenDoP) or previous", str(self.relative_to),
                                  where="CameraTokenizer")

    @property
    def tokens_per_pose(self) -> int:
        return len(self.slots)

    @property
    def length(self) -> int:
        """Coordinate tokens per trajectory (300 for GenDoP)."""
        return self.poses * self.tokens_per_pose

    @property
    def vocab_size(self) -> int:
        """Embedding rows needed: 260 with either offset (GenDoP's ``vocab_size``)."""
        return BINS + 1 + 3

    def bins(self, camera: CameraPath) -> tuple[np.ndarray, float]:
        """``(poses, 10)`` int bins of all ten slots and the scale ``s`` (before slot selection)."""
        if camera.num_frames < self.poses:
            raise ValidationError("frames", f"at least {self.poses} frames to sample {self.poses} poses",
                                  str(camera.num_frames), where="CameraTokenizer")
        stride = camera.num_frames // self.poses
        idx = np.arange(self.poses) * stride
        gl = opencv_to_opengl(np.asarray(camera.c2w, dtype=np.float64))[idx]
        if self.relative_to == "previous":
            steps = np.linalg.inv(gl[:-1]) @ gl[1:]
            R = np.concatenate([np.eye(3)[None], steps[:, :3, :3]])
            t = np.concatenate([np.zeros((1, 3)), steps[:, :3, 3]])
        else:
            R0, t0 = gl[0, :3, :3], gl[0, :3, 3]
            R = R0.T @ gl[:, :3, :3]
            t = (gl[:, :3, 3] - t0) @ R0  # R0ᵀ(t − t0), row-wise
        scale = float(np.linalg.norm(t, axis=1).max()) + 1e-5
        t = t / scale
        f32 = np.float32
        q = quaternion_wxyz(R.astype(f32))
        out = np.empty((self.poses, 10), dtype=np.int64)
        out[:, 0:4] = _quantise((q + f32(1)) * f32(0.5) * f32(BINS))
        out[:, 4:7] = _quantise((t.astype(f32) + f32(1)) * f32(0.5) * f32(BINS))
        K = np.broadcast_to(np.asarray(camera.K, dtype=np.float64), (camera.num_frames, 3, 3))[0]
        if camera.size is None:
            raise ValidationError("size", "a camera path with an image size (fx/W and fy/H are tokens)", "none",
                                  where="CameraTokenizer")
        W, H = camera.size
        for slot, focal, side in ((7, K[0, 0], W), (8, K[1, 1], H)):
            v = f32(focal * 512 / side) / f32(512)
            out[:, slot] = _quantise(np.full(self.poses, v / f32(10) * f32(BINS), dtype=f32))
        log_s = f32(np.log10(scale))
        out[:, 9] = _quantise(np.full(self.poses, (log_s + f32(2)) / f32(4) * f32(BINS), dtype=f32))
        return out, scale

    def encode(self, camera: CameraPath) -> np.ndarray:
        """Token ids ``(poses · len(slots),)`` (no BOS/EOS)."""
        return (self.bins(camera)[0][:, list(self.slots)] + self.offset).reshape(-1)

    def decode(self, ids: np.ndarray, *, frames: int | None = None, size: tuple[int, int] = (512, 512),
               fps: float = 30.0, apply_scale: bool = False, gendop_scale: bool = False) -> CameraPath:
        """A camera path from coordinate token ids (BOS/EOS stripped; a trailing EOS is dropped).

        Poses are relative to the first (world = the first camera's frame, OpenCV axes), in normalised units
        (× the decoded scale with ``apply_scale``);
        missing slots decode as GenDoP's static dummy (identity, mid translation, its default intrinsics).
        ``frames`` resamples (slerp/lerp) to that many frames over the same span. ``size`` is the output
        canvas for the decoded fx/W, fy/H.
        """
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) == self.length + 1 and ids[-1] == EOS:
            ids = ids[:-1]
        if len(ids) != self.length:
            raise ValidationError("tokens", f"{self.length} coordinate tokens ({self.poses} poses × "
                                  f"{self.tokens_per_pose})", str(len(ids)), where="CameraTokenizer.decode")
        bins = ids.reshape(self.poses, self.tokens_per_pose) - self.offset
        if bins.min() < 0 or bins.max() > BINS:
            raise ValidationError("tokens", f"ids {self.offset}..{BINS + self.offset} (offset {self.offset})",
                                  f"{ids.min()}..{ids.max()}", where="CameraTokenizer.decode")
        full = np.tile(np.array(STATIC_DUMMY, dtype=np.int64), (self.poses, 1))
        full[:, list(self.slots)] = bins
        q = full[:, 0:4] / 128.0 - 1
        t = full[:, 4:7] / 128.0 - 1
        if np.any(np.linalg.norm(q, axis=1) == 0):
            q = np.where(np.linalg.norm(q, axis=1, keepdims=True) == 0, [1.0, 0, 0, 0], q)
        # a token set without the scale slot speaks normalised units (the farthest pose ≈ 1 from the first)
        exponent = full[0, 9] / 64.0 - 2
        scale = (np.exp(exponent) if gendop_scale else 10.0**exponent) if 9 in self.slots else 1.0
        gl = np.tile(np.eye(4), (self.poses, 1, 1))
        gl[:, :3, :3] = quaternion_to_matrix(q)
        gl[:, :3, 3] = t
        if self.relative_to == "previous":  # compose the steps; reach normalised to 1 like the absolute scheme
            for i in range(1, self.poses):
                gl[i] = gl[i - 1] @ gl[i]
            reach = np.linalg.norm(gl[:, :3, 3], axis=1).max()
            gl[:, :3, 3] /= reach if reach > 1e-9 else 1.0
        gl[:, :3, 3] *= scale if apply_scale else 1.0
        W, H = size
        K = intrinsics_matrix(full[0, 7] / 25.6 * W, full[0, 8] / 25.6 * H, W / 2, H / 2)
        # World = the first camera's OpenCV frame (trajkit's relative_to_first): conjugate by diag(1, −1, −1).
        flip = np.diag([1.0, -1.0, -1.0, 1.0])
        path = CameraPath(c2w=flip @ gl @ flip, K=K, size=size, fps=fps * self.poses / 120,
                          meta={"scale": float(scale), "source": "tokens"})
        return path if frames is None else path.resample(frames).replace(fps=fps)

    def sequence(self, camera: CameraPath) -> np.ndarray:
        """``[BOS] coordinates [EOS]`` as the decoder is trained on."""
        return np.concatenate([[BOS], self.encode(camera), [EOS]])


def _quantise(x: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(x, 0, BINS)).astype(np.int64)
