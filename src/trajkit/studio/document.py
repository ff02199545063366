"""The studio's project document: what the editor authors, validated with pydantic, and how it becomes controls.

Everything is in **original-image pixels** (origin top-left, y down) whatever size the page shows the image at, and
every timing is explicit — ``frames`` at ``fps`` (81 @ 16 by default) — never the speed at which something was drawn.

A document holds tracks of four kinds, each built with :mod:`trajkit.author.tracks`:

* ``path``: a smooth curve through control ``points``, followed by arc length under a speed profile (``speed``:
  linear, ease-in, ease-out, ease-in-out, or a speed curve), between ``start`` and ``end`` frames;
* ``static``: an anchor that holds still (visible between ``start`` and ``end``);
* ``circle``: ATI's circle zoom — ``count`` points on a circle whose radius goes from ``radius_start`` to
  ``radius_end``; all points share one radius timeline, so they stay in sync;
* ``sampled``: per-frame positions (imported files), kept as they are.

Every track can carry a ``pan`` (pixels added over the clip: ATI's camera pan), and ``edits`` (drags of one frame
with a Gaussian falloff over the neighbouring frames, ATI's edit tool). A ``camera`` (move grammar or director text)
and ``entities`` (1–3 templates) are bridged into tracks too when ``include`` is set.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ..author.entities import VIEW_HEIGHT, TemplateShape
from ..core.errors import TrajkitError
from ..core.retime import fit_timeline
from ..core.tracks import Tracks

if TYPE_CHECKING:
    from ..core.camera import CameraPath
    from ..core.entities import EntityPaths

MAX_TRACKS = 256
MAX_POINTS = 2048
MAX_FRAMES = 2000
#: Positions one document may expand to (tracks × frames): keeps sampling and exports bounded in memory.
MAX_SAMPLES = 4_000_000
#: Frames a camera move may last at the document's fps before it is fitted onto the document's frames.
MAX_MOVE_FRAMES = 20 * MAX_FRAMES
Coordinate = Annotated[float, Field(ge=-1e5, le=1e5, allow_inf_nan=False)]
Point = tuple[Coordinate, Coordinate]


def _moving(curve: list[float]) -> list[float]:
    if not any(curve):
        raise ValueError("a speed curve needs at least one sample above 0")
    return curve


Speed = Literal["linear", "ease-in", "ease-out", "ease-in-out"] | Annotated[
    list[Annotated[float, Field(ge=0, le=1e3, allow_inf_nan=False)]], Field(min_length=2, max_length=64),
    AfterValidator(_moving)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FalloffEdit(_Model):
    """Frame ``frame`` dragged by ``(dx, dy)``; neighbours follow with a Gaussian of ``sigma`` frames."""

    frame: int = Field(ge=0, lt=MAX_FRAMES)
    dx: Coordinate
    dy: Coordinate
    sigma: float = Field(4.2466, ge=0.01, le=1000)


class _Track(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str = Field("", max_length=80)
    pan: Point = (0.0, 0.0)
    edits: list[FalloffEdit] = Field(default_factory=list, max_length=64)


class PathTrack(_Track):
    kind: Literal["path"] = "path"
    points: list[Point] = Field(min_length=1, max_length=MAX_POINTS)
    speed: Speed = "linear"
    start: int = Field(0, ge=0)
    end: int | None = Field(None, ge=1)
    closed: bool = False


class StaticTrack(_Track):
    kind: Literal["static"] = "static"
    point: Point
    start: int = Field(0, ge=0)
    end: int | None = Field(None, ge=1)


class CircleTrack(_Track):
    kind: Literal["circle"] = "circle"
    center: Point
    radius_start: float = Field(ge=0, le=1e5)
    radius_end: float = Field(ge=0, le=1e5)
    count: int = Field(4, ge=1, le=64)
    angle: float = Field(0.0, ge=-360, le=360)
    speed: Speed = "linear"


class SampledTrack(_Track):
    kind: Literal["sampled"] = "sampled"
    xy: list[Point] = Field(min_length=1, max_length=MAX_FRAMES)
    visible: list[bool] | None = None

    @model_validator(mode="after")
    def _one_flag_per_position(self) -> SampledTrack:
        if self.visible is not None and len(self.visible) != len(self.xy):
            raise ValueError(f"{len(self.xy)} positions but {len(self.visible)} visibility flags")
        return self


Track = Annotated[PathTrack | StaticTrack | CircleTrack | SampledTrack, Field(discriminator="kind")]


class CameraControl(_Model):
    """A camera move for the image: ``moves`` (trajkit's grammar) or ``text`` (the director)."""

    moves: str | None = Field(None, max_length=500)
    text: str | None = Field(None, max_length=500)
    seed: int = Field(0, ge=0, le=2**31)
    hfov: float = Field(60.0, gt=1, lt=179)
    grid: int = Field(8, ge=1, le=32)
    include: bool = True

    @model_validator(mode="after")
    def _one(self) -> CameraControl:
        if (self.moves is None) == (self.text is None):
            raise ValueError("give exactly one of 'moves' or 'text'")
        if self.text is not None and not self.text.strip():
            raise ValueError("'text' is blank; describe the camera motion, e.g. \"the camera pushes in slowly\"")
        return self


class EntityTemplate(_Model):
    """A template (:mod:`trajkit.author.entities`) and its parameters, checked as placing it will check them:
    known names, finite numbers within the template's limits (so a saved document can always be rendered).
    Parameters left out take the template's in-view values (:data:`trajkit.author.entities.IN_VIEW`)."""

    shape: TemplateShape
    prompt: str = Field(min_length=1, max_length=300)
    params: dict[str, float | bool | int] = Field(default_factory=dict, max_length=8)

    @model_validator(mode="after")
    def _buildable(self) -> EntityTemplate:
        from ..author.entities import template

        try:
            template(self.shape, self.params, "params")
        except TrajkitError as exc:  # pydantic reports ValueErrors with the field's location
            raise ValueError(str(exc)) from exc
        return self


class EntityControl(_Model):
    """1–3 entities from templates, in front of 3DTrajMaster's rig camera; bridged to tracks on the image."""

    templates: list[EntityTemplate] = Field(min_length=1, max_length=3)
    distance: float = Field(8.0, gt=0.5, le=100)
    spacing: float = Field(2.0, ge=0, le=50)
    footprint: int = Field(4, ge=0, le=16)
    #: How high the camera that sees the image stands above the ground the entities walk on (m): the rig's own
    #: camera stands on that ground, where every ground point projects onto the horizon line.
    camera_height: float = Field(VIEW_HEIGHT, gt=0, le=50)
    include: bool = True


class Document(_Model):
    """A studio project's controls (see the module docstring)."""

    version: Literal[1] = 1
    frames: int = Field(81, ge=2, le=MAX_FRAMES)
    fps: float = Field(16.0, gt=0, le=240)
    prompt: str = Field("", max_length=2000)
    tracks: list[Track] = Field(default_factory=list, max_length=MAX_TRACKS)
    camera: CameraControl | None = None
    entities: EntityControl | None = None

    @model_validator(mode="after")
    def _spans(self) -> Document:
        for k, t in enumerate(self.tracks):
            start, end = getattr(t, "start", 0), getattr(t, "end", None)
            end = self.frames if end is None else end
            if not 0 <= start < end <= self.frames:
                raise ValueError(f"track {k}: start/end must satisfy 0 ≤ start < end ≤ frames ({self.frames})")
            for e in t.edits:
                if e.frame >= self.frames:
                    raise ValueError(f"track {k}: an edit at frame {e.frame} is past the last frame")
        ids = [t.id for t in self.tracks]
        if len(set(ids)) != len(ids):
            raise ValueError("track ids must be unique")
        columns = column_count(self)
        if columns * self.frames > MAX_SAMPLES:
            raise ValueError(f"{columns} tracks × {self.frames} frames is more than {MAX_SAMPLES:,} positions; "
                             "use fewer tracks or frames")
        if self.camera is not None and self.camera.moves is not None:
            _check_moves(self.camera.moves, self.fps)
        return self


def _check_moves(text: str, fps: float) -> None:
    """Parse the camera's ``moves`` as rendering will, and bound how many frames the move is rendered at."""
    from ..author.grammar import parse_moves

    try:
        move = parse_moves(text)
    except TrajkitError as exc:
        raise ValueError(f"camera.moves: {exc}") from exc
    frames = round(move.duration * fps) + 1
    if frames > MAX_MOVE_FRAMES:
        raise ValueError(f"camera.moves: the move lasts {move.duration:g} s, {frames:,} frames at {fps:g} fps; at "
                         f"most {MAX_MOVE_FRAMES:,}")


def parse_document(data: Any) -> Document:
    """Validate a document, raising a :class:`TrajkitError` that names the field."""
    from pydantic import ValidationError

    from ..core.errors import describe_model_error

    try:
        return Document.model_validate(data)
    except ValidationError as exc:
        raise TrajkitError(f"document: {describe_model_error(exc)}") from exc


def _speed(speed: str | list[float]) -> str | np.ndarray:
    return speed if isinstance(speed, str) else np.asarray(speed, dtype=np.float64)


def track_columns(track: Track, frames: int, fps: float, size: tuple[int, int]) -> Tracks:
    """One document track as :class:`Tracks` (1 column, or ``count`` for a circle) with its pan and edits."""
    from ..author import tracks as author

    if isinstance(track, PathTrack):
        out = author.path_track(track.points, frames, fps, size, speed=_speed(track.speed), closed=track.closed,
                                start=track.start, end=track.end)
    elif isinstance(track, StaticTrack):
        out = author.static_points([track.point], frames, fps, size)
        out = author.set_span(out, 0, track.start, track.end)
    elif isinstance(track, CircleTrack):
        out = author.circle_zoom(track.center, track.radius_start, track.radius_end, track.count, frames, fps, size,
                                 angle=track.angle, speed=_speed(track.speed))
    else:
        xy = np.asarray(track.xy, dtype=np.float64)
        vis = np.ones(len(xy), bool) if track.visible is None else np.asarray(track.visible, bool)
        if len(vis) != len(xy):
            raise TrajkitError(f"track {track.id}: {len(xy)} positions but {len(vis)} visibility flags")
        out = fit_timeline(Tracks(xy=xy[:, None], visible=vis[:, None], size=size, fps=fps), frames, fps)
    for edit in track.edits:
        for column in range(out.num_tracks):
            out = author.edit_with_falloff(out, column, edit.frame, (edit.dx, edit.dy), sigma=edit.sigma)
    if track.pan != (0.0, 0.0):
        out = author.add_pan(out, *track.pan)
    return out


def column_count(doc: Document) -> int:
    """How many track columns the document expands to (a circle gives ``count``, the camera a grid)."""
    columns = sum(t.count if isinstance(t, CircleTrack) else 1 for t in doc.tracks)
    if doc.camera is not None and doc.camera.include:
        columns += doc.camera.grid ** 2
    if doc.entities is not None and doc.entities.include:
        columns += len(doc.entities.templates) * (1 + doc.entities.footprint)
    return columns


def document_tracks(doc: Document, size: tuple[int, int], *,
                    depth: np.ndarray | None = None) -> tuple[Tracks | None, list[dict[str, Any]]]:
    """All the document's tracks on the ``size`` canvas, and who owns each column
    (``{"source": "track", "id": …}``, ``{"source": "camera"}`` or ``{"source": "entities"}``)."""
    parts: list[Tracks] = []
    owners: list[dict[str, Any]] = []
    for track in doc.tracks:
        cols = track_columns(track, doc.frames, doc.fps, size)
        parts.append(cols)
        owners += [{"source": "track", "id": track.id}] * cols.num_tracks
    if doc.camera is not None and doc.camera.include:
        cams = camera_tracks(doc, size, depth)
        parts.append(cams)
        owners += [{"source": "camera"}] * cams.num_tracks
    if doc.entities is not None and doc.entities.include:
        ents = entity_tracks(doc, size)
        parts.append(ents)
        owners += [{"source": "entities"}] * ents.num_tracks
    return (Tracks.concatenate(parts) if parts else None), owners


def document_camera(doc: Document, size: tuple[int, int]) -> CameraPath | None:
    """The document's camera path on the ``size`` canvas (``frames`` at ``fps``), or ``None``."""
    from ..core.camera import intrinsics_from_fov

    cs = doc.camera
    if cs is None:
        return None
    if cs.moves is not None:
        from ..author.grammar import parse_moves

        camera = parse_moves(cs.moves).path(fps=doc.fps, size=size, hfov=cs.hfov)
    else:
        camera = _directed_camera(cs.text, cs.seed, size).replace(K=intrinsics_from_fov(size, cs.hfov))
    return fit_timeline(camera, doc.frames, doc.fps)


def check_camera_text(doc: Document, size: tuple[int, int]) -> None:
    """Have the director read the camera's ``text`` as rendering will (its own prompt rules: a token limit), so a
    saved document renders. When the director cannot be loaded at all (503) nothing is refused: rendering says so."""
    from .workspace import StudioError

    if doc.camera is None or doc.camera.text is None:
        return
    try:
        document_camera(doc, size)
    except StudioError as exc:
        if exc.status != 503:
            raise
    except TrajkitError as exc:
        raise TrajkitError(f"document.camera.text: {exc}") from exc


def document_warnings(doc: Document) -> list[str]:
    """What the page should warn about without refusing: a director prompt naming no motion it knows (the path it
    writes is a guess; ``trajkit direct`` says the same)."""
    if doc.camera is None or doc.camera.text is None:
        return []
    from ..director.captions import unknown_motion_warning

    warning = unknown_motion_warning(doc.camera.text)
    return [f"{warning}; the camera path is a guess"] if warning else []


@lru_cache(maxsize=16)
def _directed_camera(text: str, seed: int, size: tuple[int, int]) -> CameraPath:
    """The embedded director's path for ``text`` (cached: the page re-samples the document on every edit), from the
    process's one :class:`~trajkit.studio.director.DirectorLoader` (loaded once, behind a lock)."""
    from . import director

    return director.DIRECTOR.camera(text, seed, size)


def camera_tracks(doc: Document, size: tuple[int, int], depth: np.ndarray | None = None) -> Tracks:
    """The camera move as a grid of tracks on the image (first-frame depth when given, else a plane)."""
    from ..bridge import camera_to_tracks

    camera = document_camera(doc, size)
    assert doc.camera is not None and camera is not None
    return camera_to_tracks(camera, depth=depth, grid=doc.camera.grid)


def document_entities(doc: Document, size: tuple[int, int]) -> EntityPaths | None:
    """The document's entities, or ``None``: templates placed in front of the rig camera (its lens and pitch) raised
    ``camera_height`` m above their ground plane ``y = 0``, the camera rescaled to the image."""
    from ..author import entities as author

    es = doc.entities
    if es is None:
        return None
    templates = [author.template(t.shape, {**author.IN_VIEW[t.shape], **t.params}, f"entities.templates.{k}")
                 for k, t in enumerate(es.templates)]
    camera = author.rig_camera(height=es.camera_height, fps=doc.fps)
    ents = author.place(templates, [t.prompt for t in es.templates], camera, distance=es.distance,
                        spacing=es.spacing, frames=doc.frames, fps=doc.fps, ground=0.0)
    assert ents.camera is not None
    return ents.with_camera(ents.camera.rescale(size))


def entity_tracks(doc: Document, size: tuple[int, int]) -> Tracks:
    """The entities projected onto the image through their camera (footprint points around each pivot)."""
    from ..bridge import entities_to_tracks

    ents = document_entities(doc, size)
    assert doc.entities is not None and ents is not None
    return entities_to_tracks(ents, footprint=doc.entities.footprint, ground=0.0)
