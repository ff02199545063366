"""A preview scene: the first frame split into a background and the regions its tracks carry, ready to render
any frame (see :mod:`trajkit.backends.preview` for the model).

Coordinates: tracks and cameras speak canvas pixels; everything here is array coordinates (canvas − ½).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...core.camera import CameraPath
from ...core.errors import ValidationError
from ...core.tracks import Tracks
from .fill import inpaint
from .mesh import MeshDeformer, folded_cells, similarity_fit, unfold
from .regions import background_plate, discs, object_mask, track_motion
from .reproject import NEAR, Reprojection, depth_on_canvas, lift, project
from .splat import splat

#: A track whose motion differs from the background's by more than this (px) at some frame is a moving track.
MOVING = 1.0
#: Objects are drawn in front of the surface they started on: their depth key is scaled by this.
IN_FRONT = 0.97
#: Below this share of the canvas outside the regions there is no background worth a plate.
MIN_BACKGROUND = 0.01
WHERE = "preview"


@dataclass
class Objects:
    """The regions tracks carry: a mesh deformer, its controls, and where they go."""

    region: np.ndarray  # (H, W) bool: first-frame pixels carried
    deformer: MeshDeformer
    controls: np.ndarray  # (C,) indices of the tracks that steer the mesh
    base: np.ndarray  # (T, N, 2) array coords: where the background motion alone puts each track's start
    goal: np.ndarray  # (T, N, 2) array coords: where each track is
    cells: np.ndarray  # (gh−1, gw−1) bool: mesh cells that touch the region (fold checks)
    grid_maps: tuple[np.ndarray, np.ndarray]  # per-pixel mesh coordinates for upsampling vertex data
    vertex_world: np.ndarray | None = None  # (gh, gw, 3) with a camera: vertices lifted at the tracks' depth


@dataclass
class PreviewScene:
    """Everything a frame needs; :meth:`frame` renders one."""

    image: np.ndarray
    num_frames: int
    plate: np.ndarray | None  # the background with the regions inpainted (None: nothing but regions)
    background: Reprojection | None  # camera mode: how the plate moves
    objects: Objects | None
    camera: CameraPath | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def summary(self) -> dict[str, Any]:
        """What the render did, for ``job.json`` (JSON-able)."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.stats.items()}

    def _object_layer(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import cv2

        ob = self.objects
        assert ob is not None
        rest = ob.deformer.vertices
        if ob.vertex_world is not None and self.camera is not None:
            uv, zv = project(self.camera, t, ob.vertex_world)
            at = uv - 0.5
        else:
            at, zv = rest, None
        c = ob.controls
        moved = ob.deformer.deform(ob.base[t, c], ob.goal[t, c], at=at)
        pc, qc = ob.base[t, c], ob.goal[t, c]
        fallback = similarity_fit(pc[:, 0] + 1j * pc[:, 1], qc[:, 0] + 1j * qc[:, 1], np.ones(len(c)))
        moved, passes = unfold(moved, at, ob.deformer.cell, ob.cells, fallback)
        with self._lock:
            self.stats["unfold_passes_max"] = max(self.stats.get("unfold_passes_max", 0), passes)
            self.stats["unfolded_frames"] = self.stats.get("unfolded_frames", 0) + int(passes > 0)
            self.stats["folded_cells_after"] = self.stats.get("folded_cells_after", 0) + int(
                (folded_cells(moved, ob.deformer.cell) & ob.cells).sum())
        gx, gy = ob.grid_maps
        tx, ty = cv2.split(cv2.remap(moved.astype(np.float32), gx, gy, cv2.INTER_LINEAR))
        if zv is None:
            z = np.ones(tx.shape, np.float32)
        else:
            # Vertices behind the camera project nowhere: their pixels are not drawn (infinite depth).
            zk = np.where(zv > NEAR, zv, np.inf).astype(np.float32)
            z = cv2.remap(zk, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) * IN_FRONT
        return tx, ty, z

    def frame(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """``(frame (H, W, 3) uint8, valid (H, W) bool)`` at frame ``t``."""
        import cv2

        h, w = self.image.shape[:2]
        layers, masks, sources = [], [], []
        if self.background is not None and self.plate is not None:
            layers.append(self.background.forward(t))
            masks.append(np.ones((h, w), bool))
            sources.append(self.plate)
        if self.objects is not None:
            layers.append(self._object_layer(t))
            masks.append(self.objects.region)
            sources.append(self.image)
        static_plate = self.background is None and self.plate is not None
        out = self.plate.copy() if static_plate else np.zeros_like(self.image)
        region = self.objects.region if self.objects is not None else np.zeros((h, w), bool)
        valid = ~region if static_plate else np.zeros((h, w), bool)
        if layers:
            tx, ty, z = (np.stack(planes) for planes in zip(*layers, strict=True))
            result = splat(tx, ty, z, np.stack(masks))
            layer = result.layer()
            bx = np.nan_to_num(result.back[..., 0])
            by = np.nan_to_num(result.back[..., 1])
            for k, source in enumerate(sources):
                sel = layer == k
                sampled = cv2.remap(source, bx, by, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                np.copyto(out, sampled, where=sel[..., None])
                if source is self.image:
                    valid |= sel
                else:  # plate pixels are real where the plate was not inpainted
                    src = np.maximum(result.owner, 0).reshape(h, w) % (h * w)
                    valid |= sel & ~region.ravel()[src]
            holes = layer < 0
            if not static_plate and holes.any():
                out = inpaint(out, holes)
        return out, valid


def _check(image: np.ndarray, tracks: Tracks | None, camera: CameraPath | None) -> tuple[int, int, int]:
    """``(W, H, frames)`` after checking the inputs agree."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or min(img.shape[:2]) < 2:
        raise ValidationError("image", "(H, W, 3) uint8 RGB", f"{img.shape} {img.dtype}", where=WHERE)
    h, w = img.shape[:2]
    if tracks is None and camera is None:
        raise ValidationError("controls", "tracks and/or a camera", "neither", where=WHERE)
    frames = tracks.num_frames if tracks is not None else camera.num_frames  # type: ignore[union-attr]
    if tracks is not None:
        tracks.check_image(img, where=WHERE)
        if not np.isfinite(tracks.xy).all():
            raise ValidationError("tracks.xy", "finite positions", "NaN or infinity", where=WHERE)
        if not tracks.visible[0].any():
            raise ValidationError("tracks.visible", "at least one track visible in the first frame (the preview "
                                  "moves first-frame content)", "none visible", where=WHERE)
    if camera is not None:
        if camera.size != (w, h):
            raise ValidationError("camera.size", f"the image size {(w, h)}", str(camera.size), where=WHERE)
        if camera.num_frames != frames:
            raise ValidationError("camera", f"{frames} frames (as the tracks)", str(camera.num_frames), where=WHERE)
    return w, h, frames


def _cells_touching(region: np.ndarray, cell: int, grid_shape: tuple[int, int]) -> np.ndarray:
    gh, gw = grid_shape
    padded = np.zeros(((gh - 1) * cell, (gw - 1) * cell), bool)
    hh, ww = min(region.shape[0], padded.shape[0]), min(region.shape[1], padded.shape[1])
    padded[:hh, :ww] = region[:hh, :ww]
    return padded.reshape(gh - 1, cell, gw - 1, cell).any(axis=(1, 3))


def build_scene(image: np.ndarray, tracks: Tracks | None, *, camera: CameraPath | None = None,
                depth: np.ndarray | None = None, distance: float | None = None, cell: int = 8,
                neighbours: int = 12, region: float | None = None, segment: bool = True) -> PreviewScene:
    """Split the first frame into background and carried regions (see :mod:`trajkit.backends.preview`)."""
    from ...bridge.camera_to_tracks import default_distance

    w, h, frames = _check(image, tracks, camera)
    if not (isinstance(cell, int) and 2 <= cell <= 64) or not (isinstance(neighbours, int) and neighbours >= 1):
        raise ValidationError("options", "cell an integer in [2, 64], neighbours an integer ≥ 1",
                              f"cell {cell!r}, neighbours {neighbours!r}", where=WHERE)
    if region is not None and not (np.isfinite(region) and region > 0):
        raise ValidationError("region", "a positive radius in px", repr(region), where=WHERE)
    img = np.ascontiguousarray(image)
    stats: dict[str, Any] = {"mode": "camera" if camera is not None else "tracks"}
    if camera is not None:
        if depth is None:
            d = distance if distance is not None else default_distance(camera)
            if not (np.isfinite(d) and d > 0):
                raise ValidationError("distance", "a positive distance", repr(distance), where=WHERE)
            depth_map = np.full((h, w), d, np.float32)
            stats["depth"] = f"plane at {d:g}"
        else:
            depth_map = depth_on_canvas(depth, (w, h), WHERE)
            stats["depth"] = "map"
    objects, region_mask = None, np.zeros((h, w), bool)
    if tracks is not None:
        usable = tracks.visible[0]
        goal = track_motion(tracks.xy, tracks.visible) - 0.5
        starts = goal[0]
        if camera is not None:
            px = np.clip(np.rint(starts), [0, 0], [w - 1, h - 1]).astype(int)
            start_depth = depth_map[px[:, 1], px[:, 0]].astype(np.float64)
            world = lift(camera, starts + 0.5, start_depth)
            base = np.stack([project(camera, t, world)[0] for t in range(frames)]) - 0.5
        else:
            start_depth = None
            base = np.broadcast_to(starts, goal.shape)
        moving = usable & (np.linalg.norm(goal - base, axis=-1).max(axis=0) > MOVING)
        static = usable & ~moving
        radius = region if region is not None else 0.1 * min(w, h)
        if moving.any():
            if segment:
                region_mask = object_mask(img, starts[moving], starts[static], radius)
            else:
                region_mask = discs((h, w), starts[moving], radius)
            inside = region_mask[np.clip(np.rint(starts[:, 1]), 0, h - 1).astype(int),
                                 np.clip(np.rint(starts[:, 0]), 0, w - 1).astype(int)]
            controls = np.flatnonzero(moving | (static & inside))
            deformer = MeshDeformer.build((w, h), starts[controls], cell=cell, k=neighbours)
            gh, gw = deformer.vertices.shape[:2]
            ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
            vertex_world = None
            if camera is not None:
                assert start_depth is not None
                wts = deformer.weights
                vz = (wts * start_depth[controls][deformer.neighbours]).sum(1) / np.maximum(wts.sum(1), 1e-300)
                vertex_world = lift(camera, deformer.vertices + 0.5, vz.reshape(gh, gw))
            objects = Objects(region=region_mask, deformer=deformer, controls=controls, base=np.array(base),
                              goal=goal, cells=_cells_touching(region_mask, cell, (gh, gw)),
                              grid_maps=(xs / cell, ys / cell), vertex_world=vertex_world)
        stats.update(tracks=int(tracks.num_tracks), moving_tracks=int(moving.sum()),
                     anchors=int(static.sum()), region_share=float(region_mask.mean()))
    has_background = (1.0 - region_mask.mean()) >= MIN_BACKGROUND
    plate = None
    if has_background:
        plate = background_plate(img, region_mask) if region_mask.any() else img
    background = None
    if camera is not None and plate is not None:
        plate_depth = inpaint(depth_map, region_mask) if region_mask.any() else depth_map
        background = Reprojection(camera, plate_depth)
    stats.update(unfold_passes_max=0, unfolded_frames=0, folded_cells_after=0)
    return PreviewScene(image=img, num_frames=frames, plate=plate, background=background, objects=objects,
                        camera=camera, stats=stats)
