"""Forward warping with a z-buffer: move source pixels to where a dense forward map sends them.

Conventions: images are ``(H, W, C)`` arrays; coordinates here are **array coordinates** (pixel centres at
integers: column ``x``, row ``y``), i.e. canvas pixels minus 0.5. A forward map ``target (H, W, 2)`` gives, for
every source pixel, the (x, y) it lands on in the output frame; ``z (H, W)`` is its depth key (non-negative,
smaller = nearer); a source pixel takes part when ``source_mask`` is set and its key is finite.

The warp is the "splat, then look back" scheme of forward warping with a z-buffer:

1. every source pixel claims the output pixel nearest to its target; the nearest claim wins (packed
   ``(z, index)`` keys resolved by one ``np.minimum.at``);
2. each claimed output pixel ``x`` looks back to the exact source point ``s + J(s)⁻¹ (x − f(s))`` (one Newton
   step through the local Jacobian ``J`` of the map), so the result is sampled bilinearly at sub-pixel
   precision instead of being a cloud of rounded dots;
3. output pixels nobody claimed (magnification leaves gaps of ≤ ``gap`` px), and pixels where a farther surface
   shows through such a crack in a nearer one, try their neighbours' look-back; a candidate is accepted only if
   it is nearer and the map, interpolated at the point it looks back to, really lands on the pixel (within
   ``tolerance`` px) — so cracks inside a stretched surface close while disocclusions (nothing in the source
   lands there) stay holes.

What is left unclaimed is a hole for the caller to fill (see :mod:`.fill`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

_EMPTY = np.iinfo(np.int64).max
#: Largest area magnification (|det J|) a source pixel may have and still be drawn.
MAX_STRETCH = 36.0
#: A neighbour this much nearer (relative depth key) may take over a pixel a farther surface shows through a crack.
NEARER = 0.97
_NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


@dataclass(frozen=True)
class Splat:
    """The look-back of one forward warp of ``L`` source layers onto one ``(H, W)`` frame.

    ``owner (H·W,)``: index into the flattened ``(L, H, W)`` sources of the point each output pixel shows (−1: a
    hole); ``back (H, W, 2)`` float32: the point (array coords, within its layer) each output pixel samples
    (0 in holes).
    """

    owner: np.ndarray
    back: np.ndarray

    def layer(self) -> np.ndarray:
        """``(H, W)`` int: the source layer each output pixel shows (−1: a hole)."""
        h, w = self.back.shape[:2]
        return np.where(self.owner < 0, -1, self.owner // (h * w)).reshape(h, w)


def jacobian(tx: np.ndarray, ty: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Finite-difference Jacobian ``[[a, b], [c, d]] = ∂(tx, ty)/∂(x, y)`` of forward maps ``(..., H, W)``.

    Per axis, of the two one-sided differences the one with the smaller step is taken, so a pixel beside a depth
    edge differentiates along its own surface instead of across the edge. Returns four float32 planes.
    """
    out = []
    for axis in (-1, -2):
        dx, dy = np.diff(tx, axis=axis), np.diff(ty, axis=axis)
        n = tx.shape[axis]
        lo = [slice(None)] * tx.ndim
        hi = [slice(None)] * tx.ndim
        lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
        # back[i] = d[i-1] (edge: d[0]); fwd[i] = d[i] (edge: d[n-2])
        bx, by = np.empty_like(tx), np.empty_like(ty)
        fx, fy = np.empty_like(tx), np.empty_like(ty)
        bx[tuple(hi)], by[tuple(hi)] = dx, dy
        fx[tuple(lo)], fy[tuple(lo)] = dx, dy
        first = [slice(None)] * tx.ndim
        last = [slice(None)] * tx.ndim
        first[axis], last[axis] = slice(0, 1), slice(n - 1, n)
        zero = [slice(None)] * tx.ndim
        zero[axis] = slice(0, 1)
        end = [slice(None)] * tx.ndim
        end[axis] = slice(n - 2, n - 1)
        bx[tuple(first)], by[tuple(first)] = dx[tuple(zero)], dy[tuple(zero)]
        fx[tuple(last)], fy[tuple(last)] = dx[tuple(end)], dy[tuple(end)]
        use_back = bx * bx + by * by <= fx * fx + fy * fy
        out.append((np.where(use_back, bx, fx), np.where(use_back, by, fy)))
    (a, c), (b, d) = out
    return a, b, c, d


@dataclass(frozen=True)
class _Inverse:
    """Per source pixel (flattened): ``J⁻¹``, the forward target and the pixel's own position, for look-backs."""

    ia: np.ndarray
    ib: np.ndarray
    ic: np.ndarray
    id: np.ndarray
    tx: np.ndarray
    ty: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    torn: np.ndarray  # (L·H·W,) bool: the map stretches this pixel beyond MAX_STRETCH (or folds it)
    boxes: list[tuple[int, slice, slice]]  # per layer, where anything was differentiated
    _shape: tuple[int, int, int]

    @classmethod
    def of(cls, tx: np.ndarray, ty: np.ndarray, use: np.ndarray, skip: frozenset[int] = frozenset()) -> _Inverse:
        """From maps ``(L, H, W)``; only the bounding box of each layer's ``use`` pixels is differentiated, and
        layers in ``skip`` (which look back exactly on their own) not at all."""
        layers, h, w = tx.shape
        ia, id_ = np.ones(tx.shape, np.float32), np.ones(tx.shape, np.float32)
        ib, ic = np.zeros(tx.shape, np.float32), np.zeros(tx.shape, np.float32)
        torn = np.zeros(tx.shape, bool)
        boxes = []
        for k in range(layers):
            rows, cols = np.flatnonzero(use[k].any(axis=1)), np.flatnonzero(use[k].any(axis=0))
            if len(rows) == 0 or k in skip:
                continue
            box = (k, slice(max(rows[0] - 1, 0), rows[-1] + 2), slice(max(cols[0] - 1, 0), cols[-1] + 2))
            if tx[box].shape[0] < 2 or tx[box].shape[1] < 2:
                continue
            boxes.append(box)
            a, b, c, d = jacobian(tx[box], ty[box])
            det = a * d - b * c
            good = np.abs(det) > 1e-6
            torn[box] = ~((det > 0) & (det < MAX_STRETCH))
            inv = np.where(good, 1.0 / np.where(good, det, 1.0), 0.0).astype(np.float32)
            ia[box], ib[box] = np.where(good, d * inv, 1.0), np.where(good, -b * inv, 0.0)
            ic[box], id_[box] = np.where(good, -c * inv, 0.0), np.where(good, a * inv, 1.0)
        sx = np.broadcast_to(np.arange(w, dtype=np.float32), tx.shape).ravel()
        sy = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], tx.shape).ravel()
        return cls(ia.ravel(), ib.ravel(), ic.ravel(), id_.ravel(), tx.ravel(), ty.ravel(), sx, sy, torn.ravel(),
                   boxes, tx.shape)

    def _step(self, dx: np.ndarray, dy: np.ndarray, ia: np.ndarray, ib: np.ndarray, ic: np.ndarray,
              id_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ux = ia * dx + ib * dy
        uy = ic * dx + id_ * dy
        # A step longer than a couple of pixels means the map is not smooth here: don't trust it.
        step = np.maximum(np.sqrt(ux * ux + uy * uy) * np.float32(0.5), np.float32(1.0))
        return ux / step, uy / step

    def at_claims(self) -> tuple[np.ndarray, np.ndarray]:
        """For every source pixel, the look-back from the output pixel it claims (its rounded target): one
        element-wise pass over each layer's box, so each claimed pixel then needs two gathers instead of eight."""
        bx, by = self.sx.copy(), self.sy.copy()
        planes = [a.reshape(self._shape) for a in (self.ia, self.ib, self.ic, self.id, self.tx, self.ty)]
        out_x, out_y = bx.reshape(self._shape), by.reshape(self._shape)
        for box in self.boxes:
            ia, ib, ic, id_, tx, ty = (p[box] for p in planes)
            ux, uy = self._step(np.rint(tx) - tx, np.rint(ty) - ty, ia, ib, ic, id_)
            out_x[box] += ux
            out_y[box] += uy
        return bx, by

    def look_back(self, src: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Source points ``s + J⁻¹ (x − f(s))`` (within their layer) for flat indices ``src``, pixels ``(x, y)``."""
        ux, uy = self._step(x - self.tx[src], y - self.ty[src], self.ia[src], self.ib[src], self.ic[src], self.id[src])
        return self.sx[src] + ux, self.sy[src] + uy


def sample_points(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples ``(P, C)`` of ``image (H, W, C)`` at array coordinates ``(x, y)`` (borders replicated)."""
    import cv2

    n = len(x)
    cols = 1024
    rows = max(1, -(-n // cols))
    mx = np.zeros(rows * cols, np.float32)
    my = np.zeros(rows * cols, np.float32)
    mx[:n], my[:n] = x, y
    out = cv2.remap(image, mx.reshape(rows, cols), my.reshape(rows, cols), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * cols, -1)[:n]


#: ``(x, y, z) → (source x, source y)``: a layer's exact look-back from output pixels at the winner's depth key.
LookBack = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def splat(tx: np.ndarray, ty: np.ndarray, z: np.ndarray, source_mask: np.ndarray | None = None, *, gap: int = 1,
          tolerance: float = 0.6, exact: Sequence[LookBack | None] = ()) -> Splat:
    """Forward-warp source layers with z-buffering (see the module docstring).

    ``tx, ty (L, H, W)`` (or ``(H, W)``): where each source pixel lands (array coords); ``z``: its depth key;
    ``source_mask``: which source pixels take part. ``exact[k]``, when given, looks back for layer k from the
    output pixel and the depth of the point that won it (a camera reprojection can: it is a ray-cast), instead of
    through the map's finite-difference Jacobian.
    """
    tx = np.ascontiguousarray(tx, dtype=np.float32)
    ty = np.ascontiguousarray(ty, dtype=np.float32)
    if tx.ndim == 2:
        tx, ty, z = tx[None], ty[None], np.asarray(z)[None]
        source_mask = None if source_mask is None else np.asarray(source_mask)[None]
    import cv2

    layers, h, w = tx.shape
    zf = np.ascontiguousarray(z, dtype=np.float32).ravel()
    use = (zf >= 0) & (zf < np.inf)
    if source_mask is not None:
        use &= np.asarray(source_mask, dtype=bool).ravel()
    exact_layers = {k: fn for k, fn in enumerate(exact) if fn is not None}
    inv = _Inverse.of(tx, ty, use.reshape(layers, h, w), frozenset(exact_layers))

    def look_back(c: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bx, by = inv.look_back(c, x, y)
        for k, fn in exact_layers.items():
            sel = c // (h * w) == k
            if sel.any():
                bx[sel], by[sel] = fn(x[sel], y[sel], zf[c[sel]])
        return bx, by

    # A pixel the map magnifies beyond reason (a surface seen edge-on, points grazing the camera plane) would only
    # scatter single dots over the frame: leave its place to what is behind or to the fill.
    use &= ~inv.torn
    src = np.flatnonzero(use)
    rx, ry = np.rint(tx.ravel()[src]), np.rint(ty.ravel()[src])
    inside = (rx >= 0) & (rx < w) & (ry >= 0) & (ry < h)
    src, rx, ry = src[inside], rx[inside], ry[inside]
    lin = (ry * w + rx).astype(np.int64)
    # Non-negative float32 keys order like their bit patterns: (z bits, source index) sorts by z, then index.
    key = (zf[src].view(np.int32).astype(np.int64) << 32) | src
    buf = np.full(h * w, _EMPTY, dtype=np.int64)
    np.minimum.at(buf, lin, key)
    owner = np.where(buf == _EMPTY, -1, buf & 0xFFFFFFFF)
    back = np.zeros((h * w, 2), dtype=np.float32)
    claimed = np.flatnonzero(owner >= 0)
    bx, by = inv.at_claims()
    won = owner[claimed]
    cbx, cby = bx[won], by[won]
    for k, fn in exact_layers.items():
        sel = won // (h * w) == k
        if sel.any():
            pix = claimed[sel]
            cbx[sel], cby[sel] = fn((pix % w).astype(np.float32), (pix // w).astype(np.float32), zf[won[sel]])
    back[claimed, 0], back[claimed, 1] = cbx, cby
    flat_x, flat_y = tx.reshape(layers * h, w), ty.reshape(layers * h, w)
    mask_flat = None if source_mask is None else np.asarray(source_mask, dtype=bool).reshape(layers * h, w)
    for _ in range(gap):
        # Holes, and pixels a farther surface shows through a crack of a nearer one (a neighbour is nearer).
        zown = np.where(owner >= 0, zf[np.maximum(owner, 0)], np.inf).astype(np.float32).reshape(h, w)
        nearest = cv2.erode(zown, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE).ravel()
        # Only pixels beside a claimed one can be reached from a neighbour.
        owned = (owner >= 0).reshape(h, w).astype(np.uint8)
        beside = cv2.dilate(owned, np.ones((3, 3), np.uint8)).ravel() > 0
        holes = np.flatnonzero(((owner < 0) & beside) | (nearest < zown.ravel() * NEARER))
        if len(holes) == 0:
            break
        hx, hy = (holes % w).astype(np.float32), (holes // w).astype(np.float32)
        best_owner = np.full(len(holes), -1, dtype=np.int64)
        best_z = zown.ravel()[holes].copy()
        best_b = np.zeros((len(holes), 2), dtype=np.float32)
        crack = owner[holes] >= 0
        for dx, dy in _NEIGHBOURS:
            nx, ny = holes % w + dx, holes // w + dy
            ok = (nx >= 0) & (nx < w) & (ny >= 0) & (ny < h)
            if dx and dy:  # diagonals: for cracks, and for holes no side neighbour could fill
                ok &= (best_owner < 0) | crack
            cand = np.full(len(holes), -1, dtype=np.int64)
            cand[ok] = owner[ny[ok] * w + nx[ok]]
            sel = np.flatnonzero(cand >= 0)
            if len(sel) == 0:
                continue
            c = cand[sel]
            cx, cy = look_back(c, hx[sel], hy[sel])
            inside_src = (cx >= -0.5) & (cx <= w - 0.5) & (cy >= -0.5) & (cy <= h - 0.5)
            # Where does the map send the point we would sample? It must be this pixel (same surface).
            row = np.clip(cy, 0, h - 1) + (c // (h * w)) * h
            col = np.clip(cx, 0, w - 1)
            err = np.hypot(sample_points(flat_x, col, row)[:, 0] - hx[sel],
                           sample_points(flat_y, col, row)[:, 0] - hy[sel])
            good = (err <= tolerance) & inside_src
            if mask_flat is not None:
                good &= mask_flat[np.rint(row).astype(int), np.rint(col).astype(int)]
            cz = zf[c]
            better = good & (cz < best_z[sel])
            idx = sel[better]
            best_owner[idx], best_z[idx] = c[better], cz[better]
            best_b[idx, 0], best_b[idx, 1] = cx[better], cy[better]
        found = best_owner >= 0
        if not found.any():
            break
        owner[holes[found]] = best_owner[found]
        back[holes[found]] = best_b[found]
    return Splat(owner=owner, back=back.reshape(h, w, 2))
