"""Entity path templates (3DTrajMaster-style 1–3 entities) and their placement in front of a camera.

A template is a path on the ground, in a local frame whose ``x`` is the camera's right and ``z`` its
(horizontal) forward: straight line, arc, 90°/180° turn, turn in place, circle, zig-zag. Entities face
along their path (``heading="path"``) or keep their initial facing (``heading="fixed"``).

World conventions are trajkit's (+y down). :func:`place` puts the templates ``distance`` metres in front of
the camera on the ground plane ``y = ground`` (default: the camera's own height, as in 3DTrajMaster's
360°-Motion rig where cameras stand on the target plane) with the pivot ``height`` metres above it
(1.47103 m, the dataset's pivot height; trajmaster.md §2.4). Entities stand upright: object y = world down.

The makers' defaults follow 3DTrajMaster's motions (walks across the view, at constant depth). :data:`IN_VIEW`
holds parameters that instead keep an entity inside the rig camera's image (35 mm on 720×480: 5.4 m across at
8 m) when placed as :func:`place` does by default — 8 m ahead, one or two entities 2 m apart — and seen from
1–2 m above its ground (:data:`VIEW_HEIGHT`): they move mostly in depth, so their image positions change height
too, and stay within 1 m sideways. (Three entities 2 m apart leave the outer two about 0.2 m of room outwards:
all but the circle still fit.) The studio uses them for parameters a document leaves out.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from ..core.camera import CameraPath, intrinsics_matrix
from ..core.entities import EntityPaths
from ..core.errors import TrajkitError, ValidationError, describe_value
from ..core.rotations import axis_angle_to_matrix
from .camera import Easing, ease

#: 3DTrajMaster's pivot height above the ground plane (m) and its rig camera at 720×480 (35 mm, 23.76 mm sensor).
PIVOT_HEIGHT = 1.47103
RIG_SIZE = (720, 480)
RIG_FOCAL = 35.0 * 720 / 23.76
#: The rig cameras' downward pitch, asin(0.0933407) ≈ 5.356° (trajmaster.md §2.3).
RIG_PITCH_DEG = float(np.degrees(np.arcsin(0.0933407)))
#: How high a camera that shows entities on an image stands above their ground (m), by default: about eye height.
#: (The rig's cameras stand *on* the target plane, so every ground point they see lies on the horizon line.)
VIEW_HEIGHT = 1.5
#: The range every template parameter must lie in, by name (metres, degrees or a count): finite and bounded,
#: so any template that is accepted can be placed and projected.
PARAMETER_LIMITS: dict[str, tuple[float, float]] = {
    "length": (0.0, 1000.0), "leg": (0.0, 1000.0), "radius": (0.0, 1000.0), "width": (0.0, 1000.0),
    "degrees": (-3600.0, 3600.0), "direction": (-360.0, 360.0), "count": (1, 100),
}


@dataclass(frozen=True)
class Template:
    """A ground path: ``shape(progress (M,)) → (xz (M, 2), heading (M,) radians)``; heading 0 faces +z,
    positive headings turn right (towards +x)."""

    name: str
    shape: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _tangent_heading(xz: np.ndarray, fallback: float = 0.0) -> np.ndarray:
    d = np.gradient(xz, axis=0) if len(xz) > 1 else np.zeros_like(xz)
    heading = np.arctan2(d[:, 0], d[:, 1])
    still = np.linalg.norm(d, axis=1) < 1e-12
    heading[still] = fallback
    return np.unwrap(heading)


def straight(length: float = 4.0, direction: float = 90.0) -> Template:
    """A straight line of ``length`` m; ``direction`` in degrees (0 = away from the camera, 90 = to the right)."""
    a = np.radians(direction)
    unit = np.array([np.sin(a), np.cos(a)])
    return Template("straight", lambda p: (p[:, None] * length * unit, np.full(len(p), a)))


def arc(radius: float = 3.0, degrees: float = 90.0, direction: float = 90.0) -> Template:
    """An arc of ``radius`` m turning by ``degrees`` (positive: turning right), starting towards ``direction``."""
    a0, sweep = np.radians(direction), np.radians(degrees)
    side = np.sign(sweep) or 1.0

    def shape(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        heading = a0 + p * sweep
        # Centre of the turn lies to the right (side = +1) or left of the initial heading.
        centre = side * radius * np.array([np.cos(a0), -np.sin(a0)])
        xz = centre + side * radius * np.stack([-np.cos(heading), np.sin(heading)], axis=-1)
        return xz, heading

    return Template("arc", shape)


def turn(degrees: float = 90.0, leg: float = 2.0, direction: float = 0.0) -> Template:
    """Walk ``leg`` m, turn by ``degrees`` (90 or 180 typically; positive = right) on the spot, walk ``leg`` m."""
    a0, a1 = np.radians(direction), np.radians(direction + degrees)
    corner = leg * np.array([np.sin(a0), np.cos(a0)])
    end = corner + leg * np.array([np.sin(a1), np.cos(a1)])

    def shape(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first = np.clip(p * 2.5, 0, 1)  # 40 % walking, 20 % turning, 40 % walking
        second = np.clip((p - 0.6) * 2.5, 0, 1)
        spin = np.clip((p - 0.4) * 5, 0, 1)
        xz = first[:, None] * corner + second[:, None] * (end - corner)
        return xz, a0 + spin * (a1 - a0)

    return Template("turn", shape)


def spin(degrees: float = 360.0, direction: float = 0.0) -> Template:
    """Turn in place by ``degrees`` (positive: clockwise seen from above)."""
    a0 = np.radians(direction)
    return Template("spin", lambda p: (np.zeros((len(p), 2)), a0 + p * np.radians(degrees)))


def circle(radius: float = 2.0, clockwise: bool = True) -> Template:
    """A full circle of ``radius`` m starting at the placement point towards the right, facing along the path
    (clockwise, it comes towards the camera; counter-clockwise, it goes away)."""
    return arc(radius, 360.0 if clockwise else -360.0, direction=90.0)


def zigzag(length: float = 6.0, width: float = 1.0, count: int = 3, direction: float = 90.0) -> Template:
    """``count`` zig-zags of ``width`` m across a ``length`` m line towards ``direction``."""
    if count < 1:
        raise ValidationError("count", "at least 1", str(count), where="zigzag")
    a = np.radians(direction)
    along = np.array([np.sin(a), np.cos(a)])
    across = np.array([np.cos(a), -np.sin(a)])

    def shape(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        phase = (p * count * 2) % 2
        offset = np.where(phase < 1, phase, 2 - phase) - 0.5
        xz = p[:, None] * length * along + (offset * width)[:, None] * across
        return xz, _tangent_heading(xz, a)

    return Template("zigzag", shape)


#: Template names, as job files and the studio spell them (each is the name of its maker function above).
TemplateShape = Literal["straight", "arc", "turn", "spin", "circle", "zigzag"]
#: The template makers by name, derived from :data:`TemplateShape`.
MAKERS: dict[str, Callable[..., Template]] = {name: globals()[name] for name in get_args(TemplateShape)}


def _parameter(value: Any, kind: Any, field: str, where: str) -> float | int | bool:
    """``value`` as the template parameter type ``kind`` (``bool``, ``int`` or ``float``; numbers finite, bools are
    not numbers), else a :class:`ValidationError` naming ``where`` and ``field``."""
    if kind in (bool, "bool"):
        if not isinstance(value, (bool, np.bool_)):
            raise ValidationError(field, "true or false", describe_value(value), where=where)
        return bool(value)
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    number = float(value) if is_number else math.nan
    if not math.isfinite(number):
        raise ValidationError(field, "a finite number", describe_value(value), where=where)
    if kind in (int, "int"):
        if not number.is_integer():
            raise ValidationError(field, "a whole number", describe_value(value), where=where)
        return int(number)
    return number


def _bounded(value: float | int | bool, field: str, where: str) -> float | int | bool:
    """``value`` if it lies within :data:`PARAMETER_LIMITS` for ``field`` (booleans are not limited)."""
    low, high = PARAMETER_LIMITS.get(field, (-math.inf, math.inf))
    if not isinstance(value, bool) and not low <= value <= high:
        raise ValidationError(field, f"a value from {low:g} to {high:g}", describe_value(value), where=where)
    return value


def template(shape: str, params: Mapping[str, Any] | None = None, where: str = "template") -> Template:
    """The template ``shape`` (a :data:`TemplateShape`) built with ``params``; a parameter it does not take, one
    that is not a finite number (true/false for ``clockwise``) or one outside :data:`PARAMETER_LIMITS` is a
    :class:`TrajkitError` naming ``where`` and the parameter."""
    if shape not in MAKERS:
        raise ValidationError("shape", f"one of {sorted(MAKERS)}", repr(shape), where=where)
    maker = MAKERS[shape]
    taken = inspect.signature(maker).parameters
    kwargs = dict(params or {})
    unknown = sorted(set(kwargs) - set(taken))
    if unknown:
        raise TrajkitError(f"{where}: {shape} does not take {unknown}; it takes {sorted(taken)}")
    return maker(**{k: _bounded(_parameter(v, taken[k].annotation, k, where), k, where) for k, v in kwargs.items()})


#: Parameters that keep each template in the rig camera's view (see the module docstring), by template name.
IN_VIEW: dict[str, dict[str, float | int | bool]] = {
    "straight": {"length": 4.0, "direction": 20.0},  # away, a little to the right
    "arc": {"radius": 3.0, "degrees": 60.0, "direction": -30.0},  # a bend to the right, symmetric about "away"
    "turn": {"degrees": 180.0, "leg": 2.0, "direction": 0.0},  # away, turn round, back
    "spin": {"degrees": 360.0, "direction": 0.0},
    "circle": {"radius": 1.0, "clockwise": False},  # beyond the placement point
    "zigzag": {"length": 5.0, "width": 0.8, "count": 3, "direction": 0.0},  # away
}


def rig_camera(height: float = 0.0, pitch_deg: float = RIG_PITCH_DEG, frames: int = 1, fps: float = 8.0) -> CameraPath:
    """A 3DTrajMaster-like camera: at the origin, ``height`` m above ``y = 0``, pitched down ``pitch_deg``
    (the rig's 5.356°), 35 mm lens on 720×480."""
    c2w = np.eye(4)
    c2w[:3, :3] = axis_angle_to_matrix(np.array([-np.radians(pitch_deg), 0.0, 0.0]))
    c2w[1, 3] = -height
    K = intrinsics_matrix(RIG_FOCAL, RIG_FOCAL, RIG_SIZE[0] / 2, RIG_SIZE[1] / 2)
    return CameraPath.static(c2w, K, RIG_SIZE, frames=frames, fps=fps, metric=True)


def place(templates: Sequence[Template], prompts: Sequence[str], camera: CameraPath | None = None, *,
          distance: float = 8.0, spacing: float = 2.0, frames: int = 49, fps: float = 8.0,
          speed: Easing = "linear", heading: Literal["path", "fixed"] = "path", height: float = PIVOT_HEIGHT,
          ground: float | None = None) -> EntityPaths:
    """Place one template per entity ``distance`` m in front of ``camera`` (default :func:`rig_camera`),
    side by side ``spacing`` m apart, and render ``frames`` frames at ``fps``.
    """
    if len(templates) != len(prompts) or not templates:
        raise ValidationError("prompts", f"one prompt per template ({len(templates)})", f"{len(prompts)}",
                              where="place")
    if not distance > 0:
        raise ValidationError("distance", "a positive distance in metres", repr(distance), where="place")
    cam = camera if camera is not None else rig_camera(frames=1, fps=fps)
    c0 = cam.c2w[0]
    forward = c0[:3, 2].copy()
    forward[1] = 0.0  # horizontal forward (+y is down)
    if np.linalg.norm(forward) < 1e-9:
        raise ValidationError("camera", "a camera that is not looking straight up or down", "a vertical view",
                              where="place")
    forward /= np.linalg.norm(forward)
    right = np.cross(np.array([0.0, 1.0, 0.0]), forward)  # x = down × forward points right in a y-down world
    ground_y = c0[1, 3] if ground is None else ground
    base = c0[:3, 3] + distance * forward
    base[1] = ground_y - height
    base_heading = np.arctan2(forward[0], forward[2])
    p = ease(np.linspace(0, 1, frames), speed)
    poses = np.zeros((len(templates), frames, 4, 4))
    offsets = (np.arange(len(templates)) - (len(templates) - 1) / 2) * spacing
    for e, (template, lateral) in enumerate(zip(templates, offsets, strict=True)):
        xz, yaw = template.shape(p)
        if heading == "fixed":
            yaw = np.full(frames, yaw[0])
        world = base + (lateral + xz[:, 0])[:, None] * right + xz[:, 1][:, None] * forward
        poses[e, :, :3, :3] = axis_angle_to_matrix((base_heading + yaw)[:, None] * np.array([0.0, 1.0, 0.0]))
        poses[e, :, :3, 3] = world
        poses[e, :, 3, 3] = 1.0
    view = cam if cam.num_frames == 1 else cam.resample(frames)
    return EntityPaths(poses=poses, prompts=list(prompts), fps=fps, camera=view.replace(fps=fps),
                       meta={"templates": [t.name for t in templates]})
