"""Tracks → a locally rigid mesh deformation: moving least squares with similarity transforms, never folded.

The method is MLS image deformation with similarity transforms (Schaefer, McPhail & Warren, "Image
Deformation Using Moving Least Squares", SIGGRAPH 2006, §2.2): every mesh vertex ``v`` moves by the
similarity ``T_v`` (rotation, uniform scale, translation) that best maps the control points ``p_i`` to
``q_i`` under weights ``w_i(v) = 1 / (|p_i − v|² + r²)^α``. In complex numbers the closed form is
``T_v(x) = a (x − p*) + q*`` with weighted centroids ``p*, q*`` and ``a = Σ w p̂̄ q̂ / Σ w |p̂|²``. Two
additions make it a renderer's tool:

* the sums run over each vertex's ``k`` nearest controls only (a k-d tree built once), with weights tapered
  to zero at the (k+1)-th neighbour so the field stays continuous — thousands of tracks cost what a dozen do;
* ``a`` is pulled towards 1 by ``λ = ρ² Σ w`` (as if two virtual controls ``ρ`` px away stayed rigid), so one
  control translates and two controls rotate/scale without dividing by zero; its magnitude (the local scale) is
  clamped to ``[1/MAX_SCALE, MAX_SCALE]``.

Vertices lie on a ``cell``-spaced grid in array coordinates (pixel centres at integers); the dense map is the
bilinear interpolation of the vertex positions (each mesh cell a bilinear quad). A quad is *folded* when one
of its four corner triangles has a non-positive signed area (for a bilinear quad that is exactly when its map
stops being one-to-one); :func:`unfold` smooths the displacement around folded cells until none is left, and
falls back to the single similarity of all controls (never folded) if smoothing alone does not get there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 1.5
RIGID_RADIUS = 4.0
#: A region may grow or shrink at most this much: tracks that fly apart tear a region into pieces that follow
#: each track rather than blowing it up (the "wave becomes a blob" of the Shepard preview).
MAX_SCALE = 1.5
MIN_AREA = 0.02  # a corner triangle must keep ≥ 2 % of its rest area (× 2, i.e. of cell²) to count as unfolded


def grid_vertices(size: tuple[int, int], cell: int) -> np.ndarray:
    """``(gh, gw, 2)`` vertex positions (array coords): multiples of ``cell`` covering ``[0, W−1] × [0, H−1]``."""
    w, h = size
    gw, gh = -(-(w - 1) // cell) + 1, -(-(h - 1) // cell) + 1
    xs, ys = np.meshgrid(np.arange(gw) * float(cell), np.arange(gh) * float(cell))
    return np.stack([xs, ys], axis=-1)


def corner_areas(vertices: np.ndarray) -> np.ndarray:
    """``(gh−1, gw−1, 4)`` signed areas ×2 of each quad's four corner triangles (positive = not folded)."""
    a, b = vertices[:-1, :-1], vertices[:-1, 1:]
    c, d = vertices[1:, :-1], vertices[1:, 1:]

    def cross(o: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (p[..., 0] - o[..., 0]) * (q[..., 1] - o[..., 1]) - (p[..., 1] - o[..., 1]) * (q[..., 0] - o[..., 0])

    return np.stack([cross(a, b, c), cross(b, d, a), cross(d, c, b), cross(c, a, d)], axis=-1)


def folded_cells(vertices: np.ndarray, cell: int) -> np.ndarray:
    """``(gh−1, gw−1)`` bool: quads whose map is not one-to-one (see the module docstring)."""
    return (corner_areas(vertices) <= MIN_AREA * cell * cell).any(axis=-1)


def similarity_fit(p: np.ndarray, q: np.ndarray, w: np.ndarray, rho: float = RIGID_RADIUS) -> tuple[complex, complex,
                                                                                                    complex]:
    """The weighted similarity ``x ↦ a (x − p*) + q*`` from complex points ``p`` to ``q``: ``(a, p*, q*)``."""
    total = w.sum()
    ps, qs = (w * p).sum() / total, (w * q).sum() / total
    ph, qh = p - ps, q - qs
    lam = rho * rho * total
    a = ((w * np.conj(ph) * qh).sum() + lam) / ((w * np.abs(ph) ** 2).sum() + lam)
    return a, ps, qs


@dataclass
class MeshDeformer:
    """MLS similarity deformation of a grid mesh by controls that start at ``starts (N, 2)`` (array coords).

    ``weights (M, k)`` and ``neighbours (M, k)`` are fixed by the controls' first-frame positions; each frame
    only moves the controls.
    """

    size: tuple[int, int]
    cell: int
    vertices: np.ndarray
    neighbours: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    starts: np.ndarray

    @classmethod
    def build(cls, size: tuple[int, int], starts: np.ndarray, *, cell: int = 8, k: int = 12,
              alpha: float = ALPHA) -> MeshDeformer:
        """Grid and neighbour weights for controls starting at ``starts`` (at least one)."""
        from scipy.spatial import cKDTree

        vertices = grid_vertices(size, cell)
        flat = vertices.reshape(-1, 2)
        n = len(starts)
        kk = min(k + 1, n)
        dist, idx = cKDTree(starts).query(flat, k=kk)
        dist, idx = dist.reshape(len(flat), kk), idx.reshape(len(flat), kk)
        weights = 1.0 / (dist * dist + RIGID_RADIUS**2) ** alpha
        if n > k:
            # Taper to zero at the (k+1)-th neighbour: the field stays continuous where neighbour sets change.
            cut = np.maximum(dist[:, -1:], 1e-9)
            weights = weights[:, :-1] * np.clip(1.0 - (dist[:, :-1] / cut) ** 2, 0.0, 1.0) ** 2
            idx, dist = idx[:, :-1], dist[:, :-1]
            weights[:, 0] = np.maximum(weights[:, 0], 1e-12)  # equidistant ties must not zero every weight
        return cls(size=size, cell=cell, vertices=vertices, neighbours=idx, weights=weights, distances=dist,
                   starts=np.asarray(starts, dtype=np.float64))

    def pin(self, moved: np.ndarray, goal: np.ndarray, rounds: int = 2) -> np.ndarray:
        """Vertex positions corrected so that every control's start lands on ``goal (N, 2)``.

        MLS moves the controls only approximately (the rigidity prior, the scale clamp, the vertex grid). The miss
        ``goal − F(start)`` of each control, with ``F`` the bilinear mesh map, is spread to the vertices around it
        with a Gaussian of 1.5 cells (it fades to nothing further away), ``rounds`` times.
        """
        from .splat import sample_points

        sigma = 1.5 * self.cell
        fade = np.exp(-(self.distances**2) / (2 * sigma * sigma))
        gx = (self.starts[:, 0] / self.cell).astype(np.float32)
        gy = (self.starts[:, 1] / self.cell).astype(np.float32)
        out = moved.astype(np.float32)
        for _ in range(rounds):
            lands = sample_points(out, gx, gy)
            miss = goal - lands
            spread = (fade[..., None] * miss[self.neighbours]).sum(axis=1) / np.maximum(fade.sum(axis=1), 1.0)[:, None]
            out = out + spread.reshape(out.shape).astype(np.float32)
        return out.astype(np.float64)

    def deform(self, p: np.ndarray, q: np.ndarray, active: np.ndarray | None = None,
               at: np.ndarray | None = None) -> np.ndarray:
        """Vertex positions ``(gh, gw, 2)`` after moving controls ``p (N, 2)`` → ``q (N, 2)``.

        ``at (gh, gw, 2)``: where the vertices are before this deformation (default their rest positions; a
        camera move passes the vertices it already moved). ``active (N,)``: per-control weight factor.
        """
        pc = p[:, 0] + 1j * p[:, 1]
        qc = q[:, 0] + 1j * q[:, 1]
        w = self.weights if active is None else self.weights * active[self.neighbours]
        total = np.maximum(w.sum(axis=1, keepdims=True), 1e-300)
        P, Q = pc[self.neighbours], qc[self.neighbours]
        ps = (w * P).sum(axis=1, keepdims=True) / total
        qs = (w * Q).sum(axis=1, keepdims=True) / total
        ph, qh = P - ps, Q - qs
        lam = RIGID_RADIUS**2 * total[:, 0]
        a = ((w * np.conj(ph) * qh).sum(axis=1) + lam) / ((w * (ph.real**2 + ph.imag**2)).sum(axis=1) + lam)
        mag = np.maximum(np.abs(a), 1e-12)
        a = a / mag * np.clip(mag, 1.0 / MAX_SCALE, MAX_SCALE)
        v = self.vertices if at is None else at
        vc = v[..., 0].ravel() + 1j * v[..., 1].ravel()
        out = a * (vc - ps[:, 0]) + qs[:, 0]
        return np.stack([out.real, out.imag], axis=-1).reshape(self.vertices.shape)


def unfold(moved: np.ndarray, rest: np.ndarray, cell: int, region: np.ndarray | None = None,
           fallback: tuple[complex, complex, complex] | None = None, passes: int = 24) -> tuple[np.ndarray, int]:
    """Remove fold-overs from vertex positions ``moved (gh, gw, 2)`` (rest positions ``rest``).

    Only quads flagged in ``region (gh−1, gw−1)`` count (default all). Displacements around folded quads are
    blurred, a little more each pass; if folds remain after ``passes`` the whole mesh takes the similarity
    ``fallback = (a, p*, q*)`` (or the mean translation; a similarity that would shrink the mesh to almost
    nothing becomes a translation). Returns the positions and the passes used (0: none
    needed; ``passes + 1``: the fallback was taken).
    """
    import cv2

    def bad(v: np.ndarray) -> np.ndarray:
        f = folded_cells(v, cell)
        return f if region is None else f & region

    folded = bad(moved)
    if not folded.any():
        return moved, 0
    disp = (moved - rest).astype(np.float32)
    gh, gw = moved.shape[:2]
    for k in range(1, passes + 1):
        touch = np.zeros((gh, gw), np.uint8)
        fy, fx = np.nonzero(folded)
        for oy in (0, 1):
            for ox in (0, 1):
                touch[fy + oy, fx + ox] = 1
        grow = cv2.dilate(touch, np.ones((2 * k + 1, 2 * k + 1), np.uint8)).astype(bool)
        blurred = cv2.GaussianBlur(disp, (0, 0), sigmaX=0.75 * k, borderType=cv2.BORDER_REPLICATE)
        disp = np.where(grow[..., None], blurred, disp)
        folded = bad(rest + disp)
        if not folded.any():
            return rest + disp, k
    if fallback is None:
        shift = (moved - rest).reshape(-1, 2).mean(axis=0)
        return rest + shift, passes + 1
    a, ps, qs = fallback
    if abs(a) ** 2 < 4 * MIN_AREA:  # the controls collapse onto a point: keep the region's size, move it bodily
        a = 1.0
    rc = rest[..., 0] + 1j * rest[..., 1]
    out = a * (rc - ps) + qs
    return np.stack([out.real, out.imag], axis=-1), passes + 1
