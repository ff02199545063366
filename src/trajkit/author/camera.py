"""Camera moves by construction: pan, tilt, roll, truck, pedestal, dolly, zoom, orbit, crane; composed in
sequence (``a.then(b)``) and in parallel (``a & b``), eased, and rendered to a :class:`~trajkit.CameraPath`.

Conventions
-----------
Every move is expressed in the camera's own frame **at the start of the move** (OpenCV axes: x right,
y down, z forward). Positive amounts mean right / up / forward / in, matching the GenDoP tagger's words:

=============  ==========================================  ===========================
move           positive amount                             GenDoP words
=============  ==========================================  ===========================
``pan``        turn right, degrees (about the camera's y)  yaw right (negative: yaw left)
``tilt``       turn up, degrees (about the camera's x)     pitch up / pitch down
``roll``       clockwise as the camera sees it, degrees    roll right / roll left
``truck``      move right, metres                          move right / move left
``pedestal``   move up, metres                             move up / move down
``dolly``      move forward, metres                        move forward / move backward
``zoom``       focal length × ratio (> 1 zooms in)         (intrinsics, not tagged)
``orbit``      circle right around a point ``distance``    move right + yaw left
               ahead, keeping it centred, degrees
``crane``      rise, metres, tilting down to keep a point  move up + pitch down
               ``distance`` ahead centred
=============  ==========================================  ===========================

Parallel moves compose rotations (in order) and add translations in the start frame, so
``dolly(1) & pan(30)`` dollies along the original optical axis while panning. Each move has a duration
in seconds and an easing profile (``"linear"``, ``"ease-in"``, ``"ease-out"``, ``"ease-in-out"``, or a
custom speed curve: any non-negative samples of speed over the move, integrated into progress).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

from ..core.camera import CameraPath, intrinsics_from_fov
from ..core.errors import ValidationError
from ..core.rotations import axis_angle_to_matrix

Easing = Union[str, Sequence[float], np.ndarray]

_X, _Y, _Z = np.eye(3)


def ease(progress: np.ndarray, easing: Easing) -> np.ndarray:
    """Map linear progress in ``[0, 1]`` through an easing profile (monotone, 0 → 0, 1 → 1)."""
    p = np.clip(np.asarray(progress, dtype=np.float64), 0.0, 1.0)
    if isinstance(easing, str):
        if easing == "linear":
            return p
        if easing == "ease-in":
            return p * p
        if easing == "ease-out":
            return 1 - (1 - p) ** 2
        if easing == "ease-in-out":
            return p * p * (3 - 2 * p)
        raise ValidationError("easing", "linear, ease-in, ease-out, ease-in-out or a speed curve", repr(easing))
    speed = np.asarray(easing, dtype=np.float64)
    if speed.ndim != 1 or len(speed) < 2 or not np.isfinite(speed).all() or (speed < 0).any() or speed.sum() <= 0:
        raise ValidationError("easing", "a speed curve of ≥ 2 finite, non-negative samples (not all zero)",
                              f"{speed.shape} samples")
    # Speed is piecewise linear between equally spaced samples; its integral is piecewise quadratic (exact).
    h = 1.0 / (len(speed) - 1)
    cumulative = np.concatenate([[0.0], np.cumsum((speed[1:] + speed[:-1]) / 2 * h)])
    i = np.minimum((p / h).astype(np.int64), len(speed) - 2)
    u = p - i * h
    slope = (speed[i + 1] - speed[i]) / h
    return (cumulative[i] + speed[i] * u + slope * u * u / 2) / cumulative[-1]


def _pose(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = np.zeros(R.shape[:-2] + (4, 4))
    out[..., :3, :3] = R
    out[..., :3, 3] = t
    out[..., 3, 3] = 1.0
    return out


class Move:
    """A camera move over ``duration`` seconds. Build with the functions of this module, combine with
    :meth:`then` and ``&``, render with :meth:`path`."""

    duration: float

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(poses (M, 4, 4), focal scale (M,))`` at ``times`` seconds from the start of this move.

        Poses are camera-to-start-camera (the start camera's frame, OpenCV axes); times past the end hold.
        """
        raise NotImplementedError

    def then(self, other: Move) -> Move:
        """This move, then ``other`` starting from where this one ended."""
        return Then(self, other)

    def __and__(self, other: Move) -> Move:
        """This move and ``other`` at the same time."""
        return Together(self, other)

    def path(self, fps: float = 16.0, size: tuple[int, int] = (832, 480), hfov: float = 60.0,
             K: np.ndarray | None = None, start: np.ndarray | None = None, frames: int | None = None,
             metric: bool = True) -> CameraPath:
        """Render to a :class:`CameraPath` of ``frames`` frames (default: the whole move at ``fps``).

        ``start`` is the first camera-to-world pose (default identity); ``K`` overrides the intrinsics
        built from ``hfov``. Zoom moves give per-frame intrinsics.
        """
        n = frames if frames is not None else round(self.duration * fps) + 1
        if n < 1:
            raise ValidationError("frames", "at least 1", str(n), where="Move.path")
        poses, zoom = self.sample(np.arange(n) / fps)
        base = intrinsics_from_fov(size, hfov) if K is None else np.asarray(K, dtype=np.float64)
        c2w = (np.eye(4) if start is None else np.asarray(start, dtype=np.float64)) @ poses
        if np.allclose(zoom, 1.0):
            Ks = base
        else:
            Ks = np.repeat(base[None], n, axis=0)
            Ks[:, 0, 0] *= zoom
            Ks[:, 1, 1] *= zoom
        return CameraPath(c2w=c2w, K=Ks, size=size, fps=fps, metric=metric, meta={"authored": repr(self)})


@dataclass(frozen=True, repr=False)
class Primitive(Move):
    """One elementary move: ``shape(progress)`` gives (rotation, translation, focal scale) in the start frame."""

    name: str
    amount: float
    duration: float
    easing: Easing
    shape: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]

    def __post_init__(self) -> None:
        if not np.isfinite(self.amount):
            raise ValidationError(self.name, "a finite amount", repr(self.amount))
        if not np.isfinite(self.duration) or self.duration <= 0:
            raise ValidationError("duration", "a positive number of seconds", repr(self.duration), where=self.name)
        ease(np.zeros(1), self.easing)  # validates the profile early

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = ease(np.asarray(times, dtype=np.float64) / self.duration, self.easing)
        R, t, zoom = self.shape(p)
        return _pose(R, t), zoom

    def __repr__(self) -> str:
        return f"{self.name}({self.amount:g}, {self.duration:g}s)"


@dataclass(frozen=True, repr=False)
class Then(Move):
    """``first`` then ``second``."""

    first: Move
    second: Move

    @property
    def duration(self) -> float:  # type: ignore[override]
        return self.first.duration + self.second.duration

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(times, dtype=np.float64)
        pa, za = self.first.sample(t)
        end_pose, end_zoom = self.first.sample(np.array([self.first.duration]))
        pb, zb = self.second.sample(np.maximum(t - self.first.duration, 0.0))
        late = t > self.first.duration
        pose = np.where(late[:, None, None], end_pose[0] @ pb, pa)
        zoom = np.where(late, end_zoom[0] * zb, za)
        return pose, zoom

    def __repr__(self) -> str:
        return f"{self.first!r}.then({self.second!r})"


@dataclass(frozen=True, repr=False)
class Together(Move):
    """``a`` and ``b`` at once: rotations composed (a, then b), translations added, zooms multiplied."""

    a: Move
    b: Move

    @property
    def duration(self) -> float:  # type: ignore[override]
        return max(self.a.duration, self.b.duration)

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pa, za = self.a.sample(times)
        pb, zb = self.b.sample(times)
        return _pose(pa[:, :3, :3] @ pb[:, :3, :3], pa[:, :3, 3] + pb[:, :3, 3]), za * zb

    def __repr__(self) -> str:
        return f"({self.a!r} & {self.b!r})"


# ---------------------------------------------------------------------------- elementary moves
def _rotation(axis: np.ndarray, radians: float) -> Callable[[np.ndarray], tuple]:
    def shape(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        R = axis_angle_to_matrix(p[:, None] * radians * axis)
        return R, np.zeros((len(p), 3)), np.ones(len(p))

    return shape


def _translation(direction: np.ndarray, metres: float) -> Callable[[np.ndarray], tuple]:
    def shape(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.broadcast_to(np.eye(3), (len(p), 3, 3)), p[:, None] * metres * direction, np.ones(len(p))

    return shape


def pan(degrees: float, duration: float = 2.0, easing: Easing = "ease-in-out") -> Move:
    """Turn right by ``degrees`` (negative: left) about the camera's own vertical axis."""
    return Primitive("pan", degrees, duration, easing, _rotation(_Y, np.radians(degrees)))


def tilt(degrees: float, duration: float = 2.0, easing: Easing = "ease-in-out") -> Move:
    """Turn up by ``degrees`` (negative: down) about the camera's own horizontal axis."""
    return Primitive("tilt", degrees, duration, easing, _rotation(_X, np.radians(degrees)))


def roll(degrees: float, duration: float = 2.0, easing: Easing = "ease-in-out") -> Move:
    """Roll clockwise (as the camera sees it) by ``degrees``; negative rolls counter-clockwise."""
    return Primitive("roll", degrees, duration, easing, _rotation(_Z, np.radians(degrees)))


def truck(metres: float, duration: float = 2.0, easing: Easing = "ease-in-out") -> Move:
    """Move right by ``metres`` (negative: left) without turning."""
    return Primitive("truck", metres, duration, easing, _translation(_X, metres))


def pedestal(metres: float, duration: float = 2.0, easing: Easing = "ease-in-out") -> Move:
    """Move up by ``metres`` (negative: down) without turning."""
    return Primitive("pedestal", metres, duration, easing, _translation(-_Y, metres))


def dolly(metres: float, duration: float = 2.0, easing: Easing = "ease-in-out") -> Move:
    """Move forward along the optical axis by ``metres`` (negative: back)."""
    return Primitive("dolly", metres, duration, easing, _translation(_Z, metres))


def zoom(ratio: float, duration: float = 2.0, easing: Easing = "ease-in-out") -> Move:
    """Scale the focal length by ``ratio`` (> 1 zooms in), geometrically over time; the camera stays put."""
    if not ratio > 0:
        raise ValidationError("zoom", "a positive focal-length ratio", repr(ratio))

    def shape(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.broadcast_to(np.eye(3), (len(p), 3, 3)), np.zeros((len(p), 3)), ratio**p

    return Primitive("zoom", ratio, duration, easing, shape)


def orbit(degrees: float, distance: float = 3.0, duration: float = 2.0, easing: Easing = "ease-in-out",
          vertical: bool = False) -> Move:
    """Circle by ``degrees`` around the point ``distance`` metres ahead, keeping it at the image centre.

    Positive orbits right (the camera moves right and turns left); with ``vertical=True`` positive orbits
    up (the camera rises and turns down).
    """
    if not distance > 0:
        raise ValidationError("distance", "a positive distance to the orbit centre", repr(distance), where="orbit")
    axis = -_X if vertical else -_Y
    target = np.array([0.0, 0.0, distance])

    def shape(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        R = axis_angle_to_matrix(p[:, None] * np.radians(degrees) * axis)
        return R, target - R @ target, np.ones(len(p))

    return Primitive("orbit", degrees, duration, easing, shape)


def crane(metres: float, distance: float = 3.0, duration: float = 2.0, easing: Easing = "ease-in-out") -> Move:
    """Rise by ``metres`` (negative: descend) while tilting to keep the point ``distance`` metres ahead centred."""
    if not distance > 0:
        raise ValidationError("distance", "a positive distance to the framed point", repr(distance), where="crane")

    def shape(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        height = p * metres
        R = axis_angle_to_matrix(-np.arctan2(height, distance)[:, None] * _X)
        return R, height[:, None] * -_Y, np.ones(len(p))

    return Primitive("crane", metres, duration, easing, shape)


def glide(right: float = 0.0, up: float = 0.0, forward: float = 0.0, pan: float = 0.0, tilt: float = 0.0,
          roll: float = 0.0, duration: float = 2.0, easing: Easing = "ease-in-out") -> Move:
    """Move and turn at once with velocities fixed in the camera's *own, current* frame (a screw motion).

    ``right``/``up``/``forward`` are metres travelled along the camera's axes and ``pan``/``tilt``/``roll``
    degrees turned (signs as :func:`pan`, :func:`tilt`, :func:`roll`, :func:`truck`, :func:`pedestal`,
    :func:`dolly`). Unlike ``dolly(1) & pan(30)``, which keeps moving along the *start* axis, a glide keeps
    moving along the camera's current axes — "moves forward while yawing right" as a steered dolly or a drone
    flies it, and exactly what the GenDoP tagger reads as one label. The pose at eased progress ``p`` is
    ``exp(p·ξ)`` for the body twist ``ξ = (ω, v)``.
    """
    values = (right, up, forward, pan, tilt, roll)
    if not all(np.isfinite(v) for v in values):
        raise ValidationError("glide", "finite amounts", repr(values))
    omega = np.radians(tilt) * _X + np.radians(pan) * _Y + np.radians(roll) * _Z
    velocity = right * _X - up * _Y + forward * _Z

    def shape(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        phi = p[:, None] * omega
        theta = np.linalg.norm(phi, axis=1)
        small = theta < 1e-8
        safe = np.where(small, 1.0, theta)
        a = np.where(small, 0.5, (1 - np.cos(safe)) / safe**2)  # series limits at θ → 0
        b = np.where(small, 1.0 / 6.0, (safe - np.sin(safe)) / safe**3)
        u = p[:, None] * velocity
        cross = np.cross(phi, u)
        t = u + a[:, None] * cross + b[:, None] * np.cross(phi, cross)
        return axis_angle_to_matrix(phi), t, np.ones(len(p))

    amount = float(np.hypot(np.linalg.norm(velocity), np.linalg.norm(omega)))
    return Primitive("glide", amount, duration, easing, shape)


def hold(duration: float = 1.0) -> Move:
    """Stay still for ``duration`` seconds."""
    return Primitive("hold", 0.0, duration, "linear", _translation(_Z, 0.0))
