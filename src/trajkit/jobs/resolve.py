"""Resolve a :class:`~trajkit.jobs.spec.JobSpec` into a :class:`~trajkit.backends.GenerationRequest`.

Everything that can fail because of the job's inputs fails here, before any rendering: missing files,
unreadable images, a track file for another canvas, an unknown backend or backend option. Controls are
brought to the target canvas and timeline once, explicitly, and every such step is recorded in
``notes`` (written to ``job.json``):

* the image is resized (bicubic, no crop — as ATI) to ``size`` (``auto``: ATI's Wan rule);
* tracks are rescaled from the image canvas to ``size`` and their whole motion mapped onto ``frames`` at
  ``fps`` (ATI files with ATI's 121 → 81 index rule, others linearly);
* a camera path is rescaled, resampled and bridged to tracks (first-frame depth when given); with object
  tracks too, the camera motion is composed onto them and a background grid is added;
* entity paths are bridged through their camera (360°-Motion files follow ground contacts);
* a backend's own defaults (``job_defaults``: CogVideoX's 49 frames at 8 fps, 720×480) fill what the job leaves
  unset; for backends with ``crops_dataset_clips`` (``cogvideox-3dtrajmaster``) a 99-frame 360°-Motion clip is cut
  as 3DTrajMaster cuts it (frames 10…94 at stride 1.75 → 49 frames) for the timeline (bridged tracks, plots), and
  at 49 frames the model gets the whole clip so that its poses come from 3DTrajMaster's own latent frames (10, 14,
  21, …, 91: midpoints of *source* frames, which the 49-frame cut no longer holds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..backends import BACKENDS, GenerationRequest
from ..core.ati import ati_video_size
from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.errors import TrajkitError
from ..core.retime import fit_timeline
from ..core.tracks import Tracks
from ..formats.images import EXAMPLE_PREFIX, bundled_example, load_depth, load_image
from ..formats.registry import detect, load
from .spec import JobSpec


@dataclass
class ResolvedJob:
    """A job ready to render: its request, where its inputs came from, and what was done to them."""

    name: str
    spec: JobSpec
    request: GenerationRequest
    image_path: Path | None
    notes: list[str] = field(default_factory=list)
    reference: str | Path | None = None  # a scene name ("demo") or the path of the true video
    #: Which of ``request.tracks`` came from where: ``(kind, name, start, stop)`` with kind "tracks" (the job's own,
    #: camera motion composed in), "camera" (the bridged background grid) or "entity" (one entity's anchor +
    #: footprint); what ``trajkit evaluate`` reports per group.
    track_groups: list[tuple[str, str, int, int]] = field(default_factory=list)


def resolve_path(value: str, base: Path, field_name: str) -> Path:
    """A job path: ``example:NAME`` (bundled), absolute, or relative to the job file's folder; must exist."""
    if value.startswith(EXAMPLE_PREFIX):
        try:
            p = bundled_example(value[len(EXAMPLE_PREFIX):])
        except TrajkitError as exc:
            raise TrajkitError(f"field '{field_name}': {exc}") from exc
    else:
        p = Path(value)
        p = p if p.is_absolute() else base / p
    if not p.is_file():
        raise TrajkitError(f"field '{field_name}': file not found: {p}")
    return p


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize to ``size`` (W, H), no crop."""
    import cv2

    if (image.shape[1], image.shape[0]) == size:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)


def _resolve_tracks(spec: JobSpec, base: Path, image_size: tuple[int, int] | None, size: tuple[int, int],
                    notes: list[str]) -> Tracks | None:
    if spec.tracks is None:
        return None
    ts = spec.tracks
    if ts.video is not None:
        from .from_video import tracks_from_video

        tracks = tracks_from_video(ts, resolve_path(ts.video, base, "tracks.video"), size, notes)
        return fit_timeline(tracks, spec.frames, spec.fps, "linear")
    if ts.inline is not None:
        tracks, fmt, path = _inline_tracks(ts.inline, ts.canvas or image_size or size), "inline", Path("inline tracks")
    else:
        path = resolve_path(ts.file or "", base, "tracks.file")
        fmt = ts.format or detect(path).name
        tracks = load(path, format=fmt, size=ts.canvas or image_size)
    if not isinstance(tracks, Tracks):
        raise TrajkitError(f"field 'tracks.file': {path} holds a {type(tracks).__name__}, not tracks")
    canvas = tracks.size or image_size
    if canvas is None:
        raise TrajkitError("field 'tracks.canvas': the track file does not store its canvas and there is no image")
    if image_size is not None and canvas != image_size and not ts.rescale:
        raise TrajkitError(f"field 'tracks': {path.name} is on a {canvas[0]}×{canvas[1]} canvas but the image is "
                           f"{image_size[0]}×{image_size[1]}; set tracks.rescale: true to stretch it onto the image")
    tracks = tracks.with_size(canvas)
    if canvas != size:
        tracks = tracks.rescale(size)
        notes.append(f"tracks rescaled {canvas[0]}×{canvas[1]} → {size[0]}×{size[1]}")
    method = "ati" if fmt == "ati-pth" else "linear"
    if tracks.num_frames != spec.frames or tracks.fps != spec.fps:
        notes.append(f"tracks {tracks.num_frames} @ {tracks.fps:g} fps → {spec.frames} @ {spec.fps:g} fps "
                     f"({method} rule, whole motion kept)")
    return fit_timeline(tracks, spec.frames, spec.fps, method)  # type: ignore[arg-type]


def _inline_tracks(inline: Any, canvas: tuple[int, int]) -> Tracks:
    """Tracks written in the job: a native document, or point lists in canvas pixels."""
    from ..formats.comfyui import tracks_from_points
    from ..formats.native import from_json_document

    if isinstance(inline, dict):
        obj = from_json_document(inline)
        if not isinstance(obj, Tracks):
            raise TrajkitError(f"field 'tracks.inline': a native {type(obj).__name__} document, not tracks")
        return obj
    points = []
    for k, track in enumerate(inline):
        try:
            pts = np.array([[p["x"], p["y"]] if isinstance(p, dict) else p for p in track], dtype=np.float64)
        except (TypeError, KeyError, ValueError) as exc:
            raise TrajkitError(f"field 'tracks.inline': track {k} is not a list of [x, y] or {{x, y}} points") from exc
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0 or not np.isfinite(pts).all():
            raise TrajkitError(f"field 'tracks.inline': track {k} must hold finite [x, y] points")
        points.append(pts)
    if not points:
        raise TrajkitError("field 'tracks.inline': no tracks")
    return tracks_from_points(points, canvas, None, source_format="inline")


def _directed_camera(cs: Any, base: Path, size: tuple[int, int], notes: list[str]) -> CameraPath:
    """The director's first sample for ``cs.text`` (seeded), with the job's lens."""
    from ..core.camera import intrinsics_from_fov
    from ..director.pipeline import load_pipeline
    from ..director.sampling import SamplingOptions

    checkpoint = None
    if cs.director:
        checkpoint = Path(cs.director) if Path(cs.director).is_absolute() else base / cs.director
        if not checkpoint.exists():
            raise TrajkitError(f"field 'camera.director': no director checkpoint at {checkpoint}")
    options = SamplingOptions(mode=cs.sampling)
    camera = load_pipeline(checkpoint)(cs.text, num=1, seed=cs.seed, size=size, options=options)[0]
    notes.append(f"camera directed from text: {cs.text!r} (director {camera.meta['director']}, "
                 f"{cs.sampling}, seed {cs.seed})")
    return camera.replace(K=intrinsics_from_fov(size, cs.hfov))


def _resolve_camera(spec: JobSpec, base: Path, size: tuple[int, int], notes: list[str]) -> CameraPath | None:
    if spec.camera is None:
        return None
    cs = spec.camera
    if cs.inline is not None:
        from ..formats.native import from_json_document

        camera = from_json_document(cs.inline)
        if not isinstance(camera, CameraPath):
            raise TrajkitError(f"field 'camera.inline': a native {type(camera).__name__} document, not a camera")
    elif cs.moves is not None:
        from ..author.grammar import parse_moves

        camera = parse_moves(cs.moves).path(fps=spec.fps, size=size, hfov=cs.hfov)
        notes.append(f"camera authored from moves: {cs.moves!r}")
    elif cs.text is not None:
        camera = _directed_camera(cs, base, size, notes)
    elif cs.video is not None:
        from .from_video import camera_from_video

        camera = camera_from_video(cs, resolve_path(cs.video, base, "camera.video"), size, notes)
    else:
        path = resolve_path(cs.file or "", base, "camera.file")
        hint = int(cs.camera) if cs.camera and cs.camera.isdigit() else cs.camera
        camera = load(path, camera=hint)
        if not isinstance(camera, CameraPath):
            raise TrajkitError(f"field 'camera.file': {path} holds a {type(camera).__name__}, not one camera path"
                               + (" (choose one with camera.camera)" if hasattr(camera, "cameras") else ""))
    if camera.size != size:
        camera = camera.rescale(size)
    if camera.num_frames != spec.frames:
        notes.append(f"camera {camera.num_frames} @ {camera.fps:g} fps → {spec.frames} @ {spec.fps:g} fps")
    return fit_timeline(camera, spec.frames, spec.fps)


def _trajmaster_crop(ents: EntityPaths, notes: list[str]) -> EntityPaths:
    """3DTrajMaster's inference crop of a 360°-Motion clip: 49 video frames from frame 10 at stride 1.75."""
    from ..control.trajmaster import DATASET_FRAMES
    from ..core.timing import video_frame_indices

    if ents.num_frames != DATASET_FRAMES:
        return ents
    index = video_frame_indices()  # 3DTrajMaster's defaults: 49 frames from frame 10 at stride 1.75
    notes.append(f"360°-Motion clip cut as 3DTrajMaster: frames {index[0]}…{index[-1]} at stride 1.75 → 49 frames")
    return ents.replace(poses=ents.poses[:, index], fps=ents.fps / 1.75)


def _template_entities(es: Any, frames: int, fps: float, notes: list[str]) -> EntityPaths:
    """Entities authored from templates in front of 3DTrajMaster's rig camera (trajkit.author.entities)."""
    from ..author import entities as author

    templates = [author.template(t.shape, t.model_extra, f"field 'entities.templates.{k}'")
                 for k, t in enumerate(es.templates)]
    ents = author.place(templates, es.prompts, distance=es.distance, spacing=es.spacing, frames=frames, fps=fps,
                        speed=es.speed, heading=es.heading)
    notes.append("entities authored from templates: " + ", ".join(t.shape for t in es.templates)
                 + f", {es.distance:g} m in front of the rig camera")
    return ents


def _resolve_entities(spec: JobSpec, base: Path, size: tuple[int, int], notes: list[str],
                      dataset_crop: bool = False) -> tuple[EntityPaths | None, float | None, EntityPaths | None]:
    """``(entities on the job's timeline, ground height for bridging, entities for the model when they differ)``."""
    if spec.entities is None:
        return None, None, None
    es = spec.entities
    if es.templates is not None:
        ents = _template_entities(es, spec.frames, spec.fps, notes)  # placed in front of the rig camera
        return ents.with_camera(ents.camera.rescale(size)), es.ground, None
    path = resolve_path(es.file or "", base, "entities.file")
    fmt = detect(path).name
    hint = int(es.camera) if es.camera and es.camera.isdigit() else es.camera
    ents = load(path, format=fmt, camera=hint)
    if not isinstance(ents, EntityPaths):
        raise TrajkitError(f"field 'entities.file': {path} holds a {type(ents).__name__}, not entity paths")
    if ents.camera is None:
        raise TrajkitError(f"field 'entities': {path.name} has no camera to view the entities from")
    ents = ents.with_camera(ents.camera.rescale(size))
    if es.prompts is not None:
        if len(es.prompts) != ents.num_entities or not all(p.strip() for p in es.prompts):
            raise TrajkitError(f"field 'entities.prompts': {path.name} has {ents.num_entities} entities; give "
                               f"{ents.num_entities} non-empty prompts, found {len(es.prompts)}")
        ents = ents.replace(prompts=[p.strip() for p in es.prompts])
    model = None
    if dataset_crop and fmt == "trajmaster-json":
        from ..control.trajmaster import DATASET_FRAMES

        if ents.num_frames == DATASET_FRAMES and spec.frames == 49:
            model = ents
            notes.append("model poses from the clip's latent frames 10, 14, 21, …, 91 (3DTrajMaster's rule)")
        elif ents.num_frames == DATASET_FRAMES:
            notes.append(f"model poses from the 49-frame cut resampled to {spec.frames} frames (3DTrajMaster's own "
                         "rule exists for 49 frames only)")
        ents = _trajmaster_crop(ents, notes)
    ground = es.ground
    if ground is None and fmt == "trajmaster-json":
        from ..formats.trajmaster import GROUND

        ground = GROUND
        notes.append(f"360°-Motion entities bridged at their ground contact (ground: {GROUND:g})")
    if ents.num_frames != spec.frames:
        notes.append(f"entities {ents.num_frames} @ {ents.fps:g} fps → {spec.frames} @ {spec.fps:g} fps")
        ents = ents.resample(spec.frames)
    return ents.replace(fps=spec.fps, camera=ents.camera.replace(fps=spec.fps)), ground, model


def _load_depth(spec: JobSpec, base: Path) -> np.ndarray | None:
    if spec.depth is None:
        return None
    path = resolve_path(spec.depth, base, "depth")
    try:
        return load_depth(path)
    except TrajkitError as exc:
        raise TrajkitError(f"field 'depth': {exc}") from exc


def stand_in_depth(camera: CameraPath, depth: np.ndarray | None, fallback: str, distance: float | None,
                   height: float) -> np.ndarray:
    """The first frame's depth on the camera's canvas: the depth map when given, else the stand-in scene the camera
    is bridged with (a plane, or ground + wall), so renderers and the bridge see one scene."""
    from ..bridge.camera_to_tracks import default_distance, fallback_depth

    if depth is not None:
        return depth
    w, h = camera.size
    ys, xs = np.mgrid[0:h, 0:w] + 0.5  # pixel centres, row by row
    pts = np.stack([xs.ravel(), ys.ravel()], axis=-1)
    d = distance if distance is not None else default_distance(camera)
    z = fallback_depth(camera.Ks[0], pts, fallback, d, height)  # type: ignore[arg-type]
    return z.reshape(h, w).astype(np.float32)


def resolve_job(spec: JobSpec, base: Path, index: int = 0, backend: str | None = None) -> ResolvedJob:
    """Check and load everything a job needs; raise a :class:`TrajkitError` naming the field otherwise."""
    from ..bridge import add_camera_motion, camera_to_tracks, entities_to_tracks

    backend_name = backend or spec.backend
    if backend_name not in BACKENDS:
        raise TrajkitError(f"field 'backend': unknown backend {backend_name!r}; available: {', '.join(BACKENDS)}")
    allowed = getattr(BACKENDS[backend_name], "options", {})
    unknown = sorted(set(spec.options) - set(allowed))
    if unknown:
        raise TrajkitError(f"field 'options': {backend_name} does not take {unknown}; it takes {sorted(allowed)}")
    notes: list[str] = []
    defaults = {k: v for k, v in getattr(BACKENDS[backend_name], "job_defaults", {}).items()
                if k not in spec.model_fields_set}
    if defaults:
        spec = spec.model_copy(update=defaults)
        notes.append(f"{backend_name} defaults: " + ", ".join(f"{k} {v}" for k, v in defaults.items()))
    image_path = resolve_path(spec.image, base, "image") if spec.image else None
    if image_path is None and backend_name == "preview":
        raise TrajkitError("field 'image': the preview backend animates an image; give one")
    try:
        original = load_image(image_path) if image_path else None
    except TrajkitError as exc:
        raise TrajkitError(f"field 'image': {exc}") from exc
    image_size = None if original is None else (original.shape[1], original.shape[0])
    size = tuple(spec.size) if spec.size != "auto" else (ati_video_size(image_size) if image_size else (832, 480))
    if original is not None and image_size != size:
        notes.append(f"image resized {image_size[0]}×{image_size[1]} → {size[0]}×{size[1]} (bicubic, no crop)")
    tracks = _resolve_tracks(spec, base, image_size, size, notes)  # type: ignore[arg-type]
    camera = _resolve_camera(spec, base, size, notes)  # type: ignore[arg-type]
    crop = getattr(BACKENDS[backend_name], "crops_dataset_clips", False)
    entities, ground, model_entities = _resolve_entities(spec, base, size, notes,  # type: ignore[arg-type]
                                                         dataset_crop=crop)
    depth = _load_depth(spec, base)
    parts, objects = [], []
    scene_depth = None
    if camera is not None:
        cs = spec.camera
        assert cs is not None
        background = camera_to_tracks(camera, depth=depth, grid=cs.grid, fallback=cs.fallback, distance=cs.distance,
                                      height=cs.height)
        scene_depth = stand_in_depth(camera, depth, cs.fallback, cs.distance, cs.height)
        if tracks is not None:
            tracks = add_camera_motion(tracks, camera, depth=depth, distance=cs.distance or 3.0)
            notes.append("camera motion composed onto the object tracks")
        parts.append(background)
        notes.append(f"camera bridged to a {cs.grid}×{cs.grid} grid of tracks "
                     f"({'depth map' if depth is not None else cs.fallback + ' fallback'})")
    if tracks is not None:
        parts.insert(0, tracks)
        objects.append(tracks)
    if entities is not None:
        bridged = entities_to_tracks(entities, footprint=spec.entities.footprint, ground=ground)  # type: ignore[union-attr]
        parts.append(bridged)
        objects.append(bridged)
        notes.append("entities bridged to tracks through their camera")
    all_tracks = Tracks.concatenate(parts) if parts else None
    groups = _track_groups(tracks, background.num_tracks if camera is not None else 0, entities,
                           bridged.num_tracks if entities is not None else None)
    object_tracks = Tracks.concatenate(objects) if objects else None
    image = None if original is None else resize_image(original, size)  # type: ignore[arg-type]
    name = spec.name or f"{index:03d}_{image_path.stem if image_path else 'job'}"
    request = GenerationRequest(size=size, frames=spec.frames, fps=spec.fps, image=image,  # type: ignore[arg-type]
                                source_image=original, prompt=spec.prompt, tracks=all_tracks, camera=camera,
                                object_tracks=object_tracks, depth=scene_depth,
                                entities=entities if model_entities is None else model_entities,
                                seed=spec.seed, options=dict(spec.options))
    check = getattr(BACKENDS[backend_name], "check_request", None)
    if check is not None:
        check(request)
    return ResolvedJob(name=name, spec=spec.model_copy(update={"backend": backend_name}), request=request,
                       image_path=image_path, notes=notes, reference=_resolve_reference(spec, base),
                       track_groups=groups)


def _track_groups(tracks: Tracks | None, background: int, entities: EntityPaths | None,
                  entities_tracks: int | None) -> list[tuple[str, str, int, int]]:
    """The ``track_groups`` of :class:`ResolvedJob`, in the order ``resolve_job`` concatenates the tracks."""
    groups: list[tuple[str, str, int, int]] = []
    at = 0
    if tracks is not None:
        groups.append(("tracks", "tracks", 0, tracks.num_tracks))
        at = tracks.num_tracks
    if background:
        groups.append(("camera", "camera", at, at + background))
        at += background
    if entities is not None and entities_tracks is not None:
        each = entities_tracks // entities.num_entities
        for e, prompt in enumerate(entities.prompts):
            groups.append(("entity", f"entity {e}: {prompt}", at, at + each))
            at += each
    return groups


def _resolve_reference(spec: JobSpec, base: Path) -> str | Path | None:
    """``reference``: ``scene:NAME`` (a ray-cast scene of :mod:`trajkit.evaluate.scenes`) or a video file."""
    from ..evaluate.scenes import SCENES

    if spec.reference is None:
        return None
    if spec.reference.startswith("scene:"):
        name = spec.reference[len("scene:"):]
        if name not in SCENES:
            raise TrajkitError(f"field 'reference': unknown scene {name!r}; known: {', '.join(sorted(SCENES))}")
        return name
    return resolve_path(spec.reference, base, "reference")
