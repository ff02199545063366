"""The job spec: one video to make, as a YAML/JSON document validated with pydantic.

.. code-block:: yaml

    name: fish-swim                 # output folder name (default: index + image name)
    image: images/fish.jpg          # first frame (needed by preview and image-to-video backends)
    prompt: "koi gliding beneath lily pads"
    tracks: tracks/fish.pth         # a file in any readable format, or {file, format, canvas, rescale},
                                    # or motion from a video: {video: ref.mp4, grid: [8, 8]}
    camera: {moves: "dolly in 0.5m over 3s, then pan left 10deg"}   # or a camera file, or {file, camera},
                                    # or {video: ref.mp4} (estimated from a video),
                                    # or {text: "slowly push in, then pan left"} for the director
    depth: depth.npy                # first-frame depth for bridging the camera (optional)
    entities: scene.json            # entity paths (bridged to tracks through their camera)
    frames: 81                      # target timeline (Wan: 81 @ 16 fps)
    fps: 16
    size: auto                      # auto = ATI's Wan latent rule from the image, or [W, H]
    seed: 0
    backend: preview
    options: {cell: 8}              # backend options
    reference: truth.mkv            # the true video, if known: PSNR/SSIM of the result against it in the report
                                    # (a video file; lossless .mkv/FFV1 is best), or scene:demo (ray-cast)

Relative paths are resolved against the job file's folder; ``example:NAME`` names a bundled file. A job
file may hold one job, a list of jobs, or ``{jobs: [...]}``; ATI's ``examples/test.yaml`` (a list of
``{image, text, track}``) is accepted as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..author.entities import TemplateShape
from ..core.errors import TrajkitError, describe_model_error


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TracksSpec(_Spec):
    """Point tracks from a file, inline, or taken from a ``video`` (motion transfer: a ``grid`` [columns, rows] —
    default 8×8 — or ``points`` [[x, y], …] in the video's pixels at ``frame``, tracked with ``tracker``; the result
    is stretched onto the job's canvas and timeline). ``canvas`` for formats that do not store it; ``rescale`` onto
    the image.

    ``inline`` is either ComfyUI-style point lists ``[[{x, y}, ...], ...]`` / ``[[[x, y], ...], ...]`` in pixels
    of the canvas, or a trajkit native tracks document.
    """

    file: str | None = None
    inline: list[Any] | dict[str, Any] | None = None
    video: str | None = None
    format: str | None = None
    canvas: tuple[int, int] | None = None
    rescale: bool = False
    grid: tuple[int, int] | None = None
    points: list[tuple[float, float]] | None = None
    frame: int = Field(0, ge=0)
    tracker: str = "lk"

    @model_validator(mode="after")
    def _one_source(self) -> TracksSpec:
        if sum(x is not None for x in (self.file, self.inline, self.video)) != 1:
            raise ValueError("give exactly one of 'file', 'inline' or 'video'")
        if self.video is None and (self.grid is not None or self.points is not None):
            raise ValueError("'grid' and 'points' pick points to track in a 'video'")
        if self.grid is not None and self.points is not None:
            raise ValueError("give 'grid' or 'points', not both")
        if self.grid is not None and (min(self.grid) < 1 or self.grid[0] * self.grid[1] > 100_000):
            raise ValueError("'grid' must be [columns, rows], each ≥ 1, at most 100 000 points")
        return self


class CameraSpec(_Spec):
    """A camera path from a file, from moves (``trajkit camera`` grammar), inline (a native camera document) or
    from ``text`` through a director (``director``: a checkpoint, default the embedded one; ``seed`` picks the
    sample, ``sampling: greedy`` takes the most likely path) or estimated from a ``video`` (``method``: auto,
    colmap, essential; the focal length is estimated unless ``hfov`` is given); bridged to tracks. Director paths
    keep their motion and take the job's lens (``hfov``)."""

    file: str | None = None
    moves: str | None = None
    inline: dict[str, Any] | None = None
    text: str | None = None
    video: str | None = None
    method: Literal["auto", "colmap", "essential"] = "auto"
    director: str | None = None
    seed: int = 0
    sampling: Literal["top-k", "greedy"] = "top-k"
    camera: str | None = None
    hfov: float = 60.0
    grid: int = Field(8, ge=1, le=64)
    fallback: Literal["plane", "ground"] = "plane"
    distance: float | None = Field(None, gt=0)
    height: float = Field(1.5, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> CameraSpec:
        if sum(x is not None for x in (self.file, self.moves, self.inline, self.text, self.video)) != 1:
            raise ValueError("give exactly one of 'file', 'moves', 'inline', 'text' or 'video'")
        return self


class EntityTemplateSpec(_Spec):
    """One entity's path from :mod:`trajkit.author.entities`' templates: ``shape`` and that template's own
    parameters (``straight``: length, direction; ``arc``: radius, degrees, direction; ``turn``: degrees, leg,
    direction; ``spin``: degrees, direction; ``circle``: radius, clockwise; ``zigzag``: length, width, count,
    direction). Metres and degrees; direction 90 = to the camera's right."""

    model_config = ConfigDict(extra="allow")

    shape: TemplateShape


class EntitiesSpec(_Spec):
    """Entity paths from a ``file``, or authored from ``templates`` (one per entity, placed ``distance`` m in front
    of 3DTrajMaster's rig camera, ``spacing`` m apart); bridged to tracks through their camera (``ground``: follow
    ground contacts).

    ``prompts`` replaces the file's entity descriptions (one per entity, in the file's order) — 360°-Motion files
    only store CharacterInfo indices; templates need them. ``camera`` picks a rig camera (1–12 for 360°-Motion;
    12 by default)."""

    file: str | None = None
    templates: list[EntityTemplateSpec] | None = Field(None, min_length=1, max_length=8)
    prompts: list[str] | None = None
    camera: str | None = None
    distance: float = Field(8.0, gt=0, le=100)
    spacing: float = Field(2.0, ge=0, le=100)
    speed: Literal["linear", "ease-in", "ease-out", "ease-in-out"] = "linear"
    heading: Literal["path", "fixed"] = "path"
    ground: float | None = None
    footprint: int = Field(4, ge=0, le=32)

    @model_validator(mode="after")
    def _one_source(self) -> EntitiesSpec:
        if (self.file is None) == (self.templates is None):
            raise ValueError("give exactly one of 'file' or 'templates'")
        if self.templates is not None and (self.prompts is None or len(self.prompts) != len(self.templates)):
            raise ValueError("templates need 'prompts', one per template")
        return self


class JobSpec(_Spec):
    """One video job (see the module docstring)."""

    name: str | None = None
    image: str | None = None
    prompt: str = ""
    tracks: TracksSpec | None = None
    camera: CameraSpec | None = None
    depth: str | None = None
    entities: EntitiesSpec | None = None
    frames: int = Field(81, ge=2, le=2000)
    fps: float = Field(16.0, gt=0, le=240)
    size: Literal["auto"] | tuple[int, int] = "auto"
    seed: int = 0
    backend: str = "preview"
    options: dict[str, Any] = Field(default_factory=dict)
    reference: str | None = None

    @field_validator("tracks", "camera", "entities", mode="before")
    @classmethod
    def _file_shorthand(cls, value: Any) -> Any:
        return {"file": value} if isinstance(value, str) else value

    @field_validator("size")
    @classmethod
    def _size(cls, value: Any) -> Any:
        if value != "auto" and (value[0] < 16 or value[1] < 16 or value[0] > 8192 or value[1] > 8192):
            raise ValueError("size must be 'auto' or [W, H] between 16 and 8192 pixels")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or "/" in value or "\\" in value or value.startswith(".")):
            raise ValueError("name must be a plain folder name (no slashes, not starting with '.')")
        return value


def _from_ati_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """ATI's ``{image, text, track}`` → a job dict (tracks on the image's canvas)."""
    out = {k: v for k, v in entry.items() if k not in ("text", "track")}
    out["prompt"] = (entry.get("text") or "").strip()
    out["tracks"] = entry["track"]
    return out


def parse_jobs(doc: Any, where: str = "job file") -> list[JobSpec]:
    """Validate a parsed job document (one job, a list, ``{jobs: [...]}`` or ATI's list) into specs."""
    if isinstance(doc, dict) and "jobs" in doc:
        doc = doc["jobs"]
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise TrajkitError(f"{where}: no jobs")
    specs = []
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise TrajkitError(f"{where}: job {k} is not a mapping (found {type(item).__name__})")
        if "track" in item and "tracks" not in item:
            item = _from_ati_entry(item)
        try:
            specs.append(JobSpec.model_validate(item))
        except ValidationError as exc:
            raise TrajkitError(f"{where}: job {k}: {describe_model_error(exc, '(job)')}") from exc
    return specs


def override_jobs(specs: list[JobSpec], fields: dict[str, Any], options: dict[str, Any]) -> list[JobSpec]:
    """Jobs with ``fields`` replaced and ``options`` merged over each job's own options (command-line flags)."""
    if not fields and not options:
        return specs
    out = []
    for k, spec in enumerate(specs):
        doc = spec.model_dump(exclude_unset=True)  # keep "not set" visible: backends fill their own defaults
        doc.update(fields)
        doc["options"] = {**doc.get("options", {}), **options}
        try:
            out.append(JobSpec.model_validate(doc))
        except ValidationError as exc:
            raise TrajkitError(f"job {k}: {describe_model_error(exc, '(job)')}") from exc
    return out


def load_jobs(path: str | Path, *, dataset: str | Path | None = None, ids: list[str] | None = None) -> list[JobSpec]:
    """Read and validate a YAML/JSON job file. 3DTrajMaster's ``test_sets.json`` is read as a job list too (its
    cases, or those in ``ids``), given the 360°-Motion ``dataset`` folder its videos live in."""
    import yaml

    from .test_sets import is_test_sets, jobs_from_test_sets

    p = Path(path)
    if not p.is_file():
        raise TrajkitError(f"{p}: no such job file")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TrajkitError(f"{p}: not valid YAML/JSON ({exc})") from exc
    if is_test_sets(doc):
        return parse_jobs(jobs_from_test_sets(p, dataset, ids), str(p))
    if dataset is not None or ids is not None:
        raise TrajkitError(f"{p}: --dataset and --ids apply to 3DTrajMaster test sets (test_sets.json) only")
    return parse_jobs(doc, str(p))
