"""A preview scene: the first frame split into a background and the regions its tracks carry, ready to render
any frame (see :mod:`trajkit.backends.preview` for the model).

Coordinates: tracks and cameras speak canvas pixels; everything here is array coordinates (canvas − ½).
"""

from __future__ import annotations

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
#: A part whose moving tracks miss their best common similarity by more than this share of their spacing is torn
#: into one piece per track.
TORN = 0.3
#: More moving tracks than this in one part describe a motion field (a grid, a swarm), not separate things: such a
#: part stays one mesh, smoothed where its tracks cross.
MAX_PIECES = 16
WHERE = "preview"


@dataclass
class Piece:
    """One connected part of the region and the mesh that moves it (parts never pull on each other)."""

    box: tuple[slice, slice]  # its bounding box in the first frame
    mask: np.ndarray  # (box) bool: its pixels inside the box
    deformer: MeshDeformer  # over the whole canvas, steered by this part's controls only
    controls: np.ndarray  # (C,) indices of the tracks that steer it
    cells: np.ndarray  # (gh−1, gw−1) bool: mesh cells that touch it (fold checks)
    vertex_world: np.ndarray | None = None  # (gh, gw, 3) with a camera: vertices lifted at the tracks' depth


@dataclass
class Objects:
    """The regions tracks carry, and where the tracks go."""

    region: np.ndarray  # (H, W) bool: first-frame pixels carried
    pieces: list[Piece]
    base: np.ndarray  # (T, N, 2) array coords: where the background motion alone puts each track's start
    goal: np.ndarray  # (T, N, 2) array coords: where each track is
    grid_maps: tuple[np.ndarray, np.ndarray]  # per-pixel mesh coordinates for upsampling vertex data


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

    def record(self, mesh: tuple[int, int]) -> None:
        """Add one frame's mesh figures (from :meth:`frame`) to the statistics."""
        passes, folded = mesh
        self.stats["unfold_passes_max"] = max(self.stats.get("unfold_passes_max", 0), passes)
        self.stats["unfolded_frames"] = self.stats.get("unfolded_frames", 0) + int(passes > 0)
        self.stats["folded_cells_after"] = self.stats.get("folded_cells_after", 0) + folded

    def summary(self) -> dict[str, Any]:
        """What the render did, for ``job.json`` (JSON-able)."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.stats.items()}

    def _move(self, piece: Piece, t: int) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int]]:
        """Vertex positions of one part at frame t, their camera depth (camera mode) and its mesh figures."""
        ob = self.objects
        assert ob is not None
        deformer, c = piece.deformer, piece.controls
        if piece.vertex_world is not None and self.camera is not None:
            uv, zv = project(self.camera, t, piece.vertex_world)
            at = uv - 0.5
        else:
            at, zv = deformer.vertices, None
        moved = deformer.pin(deformer.deform(ob.base[t, c], ob.goal[t, c], at=at), ob.goal[t, c])
        pc, qc = ob.base[t, c], ob.goal[t, c]
        fallback = similarity_fit(pc[:, 0] + 1j * pc[:, 1], qc[:, 0] + 1j * qc[:, 1], np.ones(len(c)))
        moved, passes = unfold(moved, at, deformer.cell, piece.cells, fallback)
        if passes:  # smoothing moved the controls too: pin them again, and unfold only what that folds again
            moved, more = unfold(deformer.pin(moved, ob.goal[t, c]), at, deformer.cell, piece.cells, fallback)
            passes = max(passes, more)
        return moved, zv, (passes, int((folded_cells(moved, deformer.cell) & piece.cells).sum()))

    def _object_layer(self, t: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[int, int]]:
        import cv2

        ob = self.objects
        assert ob is not None
        h, w = self.image.shape[:2]
        tx, ty = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
        z = np.full((h, w), np.inf, np.float32)
        passes, folded = 0, 0
        for piece in ob.pieces:
            moved, zv, (p, f) = self._move(piece, t)
            passes, folded = max(passes, p), folded + f
            gx, gy = ob.grid_maps[0][piece.box], ob.grid_maps[1][piece.box]
            px, py = cv2.split(cv2.remap(moved.astype(np.float32), gx, gy, cv2.INTER_LINEAR))
            np.copyto(tx[piece.box], px, where=piece.mask)
            np.copyto(ty[piece.box], py, where=piece.mask)
            if zv is None:
                pz = np.ones(px.shape, np.float32)
            else:
                # Vertices behind the camera project nowhere: their pixels are not drawn (infinite depth).
                zk = np.where(zv > NEAR, zv, np.inf).astype(np.float32)
                pz = cv2.remap(zk, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) * IN_FRONT
            np.copyto(z[piece.box], pz, where=piece.mask)
        return (tx, ty, z), (passes, folded)

    def frame(self, t: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        """``(frame (H, W, 3) uint8, valid (H, W) bool, (unfold passes, folded cells left))`` at frame ``t``."""
        import cv2

        mesh = (0, 0)
        h, w = self.image.shape[:2]
        layers, masks, sources, exact = [], [], [], []
        if self.background is not None and self.plate is not None:
            layers.append(self.background.forward(t))
            exact.append(self.background.back(t))
            masks.append(np.ones((h, w), bool))
            sources.append(self.plate)
        if self.objects is not None:
            planes, mesh = self._object_layer(t)
            layers.append(planes)
            masks.append(self.objects.region)
            sources.append(self.image)
        static_plate = self.background is None and self.plate is not None
        out = self.plate.copy() if static_plate else np.zeros_like(self.image)
        region = self.objects.region if self.objects is not None else np.zeros((h, w), bool)
        valid = ~region if static_plate else np.zeros((h, w), bool)
        if layers:
            tx, ty, z = (np.stack(planes) for planes in zip(*layers, strict=True))
            result = splat(tx, ty, z, np.stack(masks), exact=exact)
            layer = result.layer()
            bx, by = cv2.split(result.back)
            for k, source in enumerate(sources):
                sel = layer == k
                rows, cols = np.flatnonzero(sel.any(axis=1)), np.flatnonzero(sel.any(axis=0))
                if len(rows) == 0:
                    continue
                box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))  # sample only where it shows
                sampled = cv2.remap(source, bx[box], by[box], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                np.copyto(out[box], sampled, where=sel[box][..., None])
                if source is self.image:
                    valid |= sel
                elif region.any():  # plate pixels are real where the plate was not inpainted
                    src = np.maximum(result.owner, 0).reshape(h, w) % (h * w)
                    valid |= sel & ~region.ravel()[src]
                else:
                    valid |= sel
            holes = layer < 0
            if not static_plate and holes.any():
                out = inpaint(out, holes)
        return out, valid, mesh


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


def _split_if_torn(mask: np.ndarray, controls: np.ndarray, moving: np.ndarray, starts: np.ndarray,
                   goal: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(mask, controls)]``: the part as it is, or — when its moving tracks do not move together (no similarity
    explains them within ``TORN`` of their spacing: they cross, swap or fly apart; at most ``MAX_PIECES`` of them)
    — one piece per moving track
    (the pixels nearest to it, with the pins among them), so each follows its own track instead of the whole part
    stretching and folding between them."""
    from scipy.spatial import cKDTree

    movers = controls[moving[controls]]
    if not 2 <= len(movers) <= MAX_PIECES:
        return [(mask, controls)]
    p = starts[movers, 0] + 1j * starts[movers, 1]
    spacing = np.median(np.abs(p[:, None] - p[None])[~np.eye(len(p), dtype=bool)])
    worst = 0.0
    for t in range(goal.shape[0]):
        q = goal[t, movers, 0] + 1j * goal[t, movers, 1]
        a, ps, qs = similarity_fit(p, q, np.ones(len(p)), rho=0.0)
        worst = max(worst, float(np.abs(a * (p - ps) + qs - q).max()))
    if worst <= max(TORN * spacing, 8.0):
        return [(mask, controls)]
    ys, xs = np.nonzero(mask)
    nearest = cKDTree(starts[movers]).query(np.stack([xs, ys], -1))[1]
    pins = np.setdiff1d(controls, movers)
    pin_owner = cKDTree(starts[movers]).query(starts[pins])[1] if len(pins) else np.zeros(0, int)
    out = []
    for j, mover in enumerate(movers):
        piece = np.zeros_like(mask)
        piece[ys[nearest == j], xs[nearest == j]] = True
        out.append((piece, np.concatenate([[mover], pins[pin_owner == j]]).astype(int)))
    return out


def _pieces(region: np.ndarray, starts: np.ndarray, moving: np.ndarray, static: np.ndarray, goal: np.ndarray,
            base: np.ndarray, start_depth: np.ndarray | None, camera: CameraPath | None, cell: int,
            neighbours: int) -> Objects:
    """Split the region into connected parts, each steered by the moving tracks (and pins) that start in it."""
    import cv2

    h, w = region.shape
    count, labels = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
    px = np.clip(np.rint(starts), 0, [w - 1, h - 1]).astype(int)
    at = labels[px[:, 1], px[:, 0]]
    pieces, kept = [], np.zeros((h, w), bool)
    parts = []
    for k in range(1, count):
        controls = np.flatnonzero((moving | static) & (at == k))
        if not moving[controls].any():
            continue  # nothing moves this part: it stays in the background
        parts.extend(_split_if_torn(labels == k, controls, moving, starts, goal))
    for mask, controls in parts:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        deformer = MeshDeformer.build((w, h), starts[controls], cell=cell, k=neighbours)
        gh, gw = deformer.vertices.shape[:2]
        vertex_world = None
        if camera is not None:
            assert start_depth is not None
            wts = deformer.weights
            vz = (wts * start_depth[controls][deformer.neighbours]).sum(1) / np.maximum(wts.sum(1), 1e-300)
            vertex_world = lift(camera, deformer.vertices + 0.5, vz.reshape(gh, gw))
        pieces.append(Piece(box=box, mask=mask[box], deformer=deformer, controls=controls,
                            cells=_cells_touching(mask, cell, (gh, gw)), vertex_world=vertex_world))
        kept |= mask
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return Objects(region=kept, pieces=pieces, base=base, goal=goal, grid_maps=(xs / cell, ys / cell))


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
            objects = _pieces(region_mask, starts, moving, static, goal, np.array(base), start_depth, camera,
                              cell, neighbours)
            region_mask = objects.region
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
