"""Camera poses from a video by two-view geometry and keyframes (no SfM library): the ``"essential"`` method.

The video is cut into keyframe *segments*: a segment starts at a keyframe and runs while at least half of the
corners tracked from it survive; the next segment starts at its last frame, carrying the survivors along.

1. **Tracks.** Shi–Tomasi corners (after a light blur that steadies aliased renders), followed frame to frame by
   pyramidal Lucas–Kanade with a forward–backward check (> 0.5 px disagreement drops a track).
2. **Parallax.** Each frame is fitted by the pure-rotation model ``x_t ~ K R K⁻¹ x_k`` (RANSAC homography, then the
   nearest rotation to the bearings: Kabsch). Its median residual in pixels is the frame's parallax; a segment
   whose largest parallax is below :data:`ROTATION_ONLY_PX` is **rotation only** (translation zero, as on a
   tripod), since no translation can be measured from it; so is one whose best start with translation (step 3)
   does not at least halve the residual of the pure-rotation fit (:data:`GENERAL_GAIN`) — LK tracks drift by
   a pixel or so over a long low-resolution pan, which a bogus baseline would otherwise "explain".
3. **Initialisation** (first segment, and after any break). The frame with the most parallax is the reference.
   Candidate poses: the essential matrix's (``cv2.findEssentialMat`` RANSAC + ``cv2.recoverPose``) and each
   physically valid decomposition of the homography (``cv2.decomposeHomographyMat``). A scene dominated by one
   plane (the demo's floor) leaves two of them that explain the pair equally well; only the right one is
   consistent with the *other* frames, so each candidate is scored by triangulating the tracks and solving every
   other frame of the segment by PnP: the lowest total reprojection error wins. Its baseline sets the unit.
4. **Tracking.** Once 3D points exist, a segment whose carried points survive to its end is solved frame by frame
   by PnP against them (RANSAC, then Levenberg–Marquardt), so the scale carries over; its new tracks are then
   triangulated from the keyframe and their last frame (≥ 0.5° of ray angle, ≤ 2 px reprojection).

No bundle adjustment follows: on the demo scene it changed RotErr by < 0.01° for ~13 s of CPU (the error there is
set by the planar scene's conditioning, not by noise), so this method stays the fast one.

Where an initialisation has to restart after 3D points existed, its scale is tied to them by the median depth
ratio of shared points, or, with none shared, to the previous segment's baseline (listed in ``scale_breaks``).
Pixels use trajkit's convention (pixel ``i`` spans ``[i, i+1)``); OpenCV's is converted at the edges.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.errors import TrajkitError

#: Below this median rotation-compensated displacement (px) a segment is treated as pure rotation.
ROTATION_ONLY_PX = 1.0
#: At most this many corners per keyframe; a segment ends when fewer than ``KEEP`` of them survive.
MAX_CORNERS = 1000
KEEP = 0.5
MIN_TRACKS = 30
FB_MAX_PX = 0.5
#: Gaussian blur (px) before tracking: steadies corners of aliased (one-sample-per-pixel) renders.
BLUR_SIGMA = 1.0
MIN_TRI_DEG = 0.5
#: A start with translation is kept only if its PnP residual is below this fraction of the pure-rotation fit's.
GENERAL_GAIN = 0.5


def _gray(frame: np.ndarray) -> np.ndarray:
    import cv2

    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return cv2.GaussianBlur(gray, (0, 0), BLUR_SIGMA) if BLUR_SIGMA > 0 else gray


def _detect(gray: np.ndarray, existing: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` new corners ``(M, 2)`` (OpenCV pixels) at least a spacing away from ``existing``."""
    import cv2

    h, w = gray.shape
    spacing = max(4, round(min(w, h) / 60))
    mask = np.full((h, w), 255, np.uint8)
    for x, y in existing:
        cv2.circle(mask, (int(x), int(y)), spacing, 0, -1)
    pts = None
    if count > 0:
        pts = cv2.goodFeaturesToTrack(gray, maxCorners=count, qualityLevel=0.001, minDistance=spacing, mask=mask,
                                      blockSize=7)
    if pts is None:
        return np.zeros((0, 2), np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 30, 0.01)
    return cv2.cornerSubPix(gray, pts.astype(np.float32), (5, 5), (-1, -1), criteria).reshape(-1, 2)


def _track(prev: np.ndarray, cur: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LK from ``prev`` to ``cur`` with a forward–backward check → ``(new points, ok mask)``."""
    import cv2

    params = {"winSize": (21, 21), "maxLevel": 3,
              "criteria": (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 30, 0.01)}
    p0 = pts.reshape(-1, 1, 2).astype(np.float32)
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, None, **params)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, p1, None, **params)
    h, w = cur.shape
    p1 = p1.reshape(-1, 2)
    ok = (st1.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm(back.reshape(-1, 2) - pts, axis=1) < FB_MAX_PX)
    ok &= (p1[:, 0] >= 0) & (p1[:, 0] < w) & (p1[:, 1] >= 0) & (p1[:, 1] < h)
    return p1, ok


def _bearings(K: np.ndarray, xy: np.ndarray) -> np.ndarray:
    b = np.concatenate([xy, np.ones((len(xy), 1))], axis=1) @ np.linalg.inv(K).T
    return b / np.linalg.norm(b, axis=1, keepdims=True)


def _project(K: np.ndarray, cam: np.ndarray) -> np.ndarray:
    p = cam @ K.T
    return p[:, :2] / p[:, 2:3]


def _kabsch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation ``R`` minimising ``Σ‖b − R a‖²`` for unit vectors ``a, b (N, 3)``."""
    U, _, Vt = np.linalg.svd(b.T @ a)
    return U @ np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))]) @ Vt


def rotation_fit(K: np.ndarray, xk: np.ndarray, xt: np.ndarray) -> tuple[np.ndarray, float]:
    """Pure-rotation fit ``x_t ~ K R K⁻¹ x_k`` → ``(R keyframe → frame, median residual px)``."""
    import cv2

    inl = np.ones(len(xk), bool)
    if len(xk) >= 8:
        _H, mask = cv2.findHomography(xk, xt, cv2.RANSAC, 1.0)
        if mask is not None and mask.sum() >= 8:
            inl = mask.ravel().astype(bool)
    R = _kabsch(_bearings(K, xk[inl]), _bearings(K, xt[inl]))
    return R, float(np.median(np.linalg.norm(_project(K, _bearings(K, xk) @ R.T) - xt, axis=1)))


def _candidates(K: np.ndarray, xk: np.ndarray, xr: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Relative poses ``(R, t)`` with ``X_r = R X_k + t``, ``|t| = 1``: the essential matrix's and H's valid ones."""
    import cv2

    out: list[tuple[np.ndarray, np.ndarray]] = []
    E, mask = cv2.findEssentialMat(xk, xr, K, cv2.RANSAC, 0.999, 1.0)
    if E is not None and E.shape == (3, 3):
        _n, R, t, _m = cv2.recoverPose(E, xk, xr, K, mask=mask)
        out.append((R, t.ravel() / max(np.linalg.norm(t), 1e-12)))
    H, hmask = cv2.findHomography(xk, xr, cv2.RANSAC, 1.0)
    if H is None:
        return out
    inl = hmask.ravel().astype(bool)
    bk, br = _bearings(K, xk[inl]), _bearings(K, xr[inl])
    _count, Rs, ts, ns = cv2.decomposeHomographyMat(H, K)
    for R, t, n in zip(Rs, ts, ns, strict=True):
        t, n = t.ravel(), n.ravel()
        if not (np.isfinite(R).all() and np.isfinite(t).all() and np.isfinite(n).all()) or np.linalg.norm(t) < 1e-9:
            continue
        # Points of the plane n·X = d lie in front of both cameras.
        if ((bk @ n) > 0).mean() > 0.9 and ((br @ (R @ n)) > 0).mean() > 0.9:
            out.append((R, t / np.linalg.norm(t)))
    return out


def _triangulate(K: np.ndarray, w2c_a: np.ndarray, w2c_b: np.ndarray, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """World points ``(N, 3)`` seen at ``xa`` and ``xb`` by two cameras (NaN where unreliable)."""
    import cv2

    X = cv2.triangulatePoints(K @ w2c_a[:3], K @ w2c_b[:3], xa.T.astype(np.float64), xb.T.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        X = (X[:3] / X[3]).T
    ca, cb = np.linalg.inv(w2c_a)[:3, 3], np.linalg.inv(w2c_b)[:3, 3]
    ra, rb = X - ca, X - cb
    cos = (ra * rb).sum(1) / np.maximum(np.linalg.norm(ra, axis=1) * np.linalg.norm(rb, axis=1), 1e-12)
    bad = ~np.isfinite(X).all(1) | (np.degrees(np.arccos(np.clip(cos, -1, 1))) < MIN_TRI_DEG)
    for w2c, x in ((w2c_a, xa), (w2c_b, xb)):
        cam = X @ w2c[:3, :3].T + w2c[:3, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            bad |= (cam[:, 2] <= 0) | ~(np.linalg.norm(_project(K, cam) - x, axis=1) <= 2.0)
    X[bad] = np.nan
    return X


def _pnp(K: np.ndarray, X: np.ndarray, x: np.ndarray, guess: np.ndarray | None) -> tuple[np.ndarray, float] | None:
    """World-to-camera pose ``(4, 4)`` and median reprojection px of a frame from world points and pixels."""
    import cv2

    ok = np.isfinite(X).all(1) & np.isfinite(x).all(1)
    if ok.sum() < 6:
        return None
    Xo, xo = X[ok].astype(np.float64), x[ok].astype(np.float64)
    if guess is not None:
        rvec, tvec = cv2.Rodrigues(guess[:3, :3])[0], guess[:3, 3:4].copy()
        found, rvec, tvec, inl = cv2.solvePnPRansac(Xo, xo, K, None, rvec, tvec, True, 200, 2.0, 0.999,
                                                    flags=cv2.SOLVEPNP_ITERATIVE)
    else:
        found, rvec, tvec, inl = cv2.solvePnPRansac(Xo, xo, K, None, iterationsCount=200, reprojectionError=2.0,
                                                    flags=cv2.SOLVEPNP_SQPNP)
    if not found or inl is None or len(inl) < 6:
        return None
    inl = inl.ravel()
    rvec, tvec = cv2.solvePnPRefineLM(Xo[inl], xo[inl], K, None, rvec, tvec)
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = cv2.Rodrigues(rvec)[0], tvec.ravel()
    res = np.linalg.norm(_project(K, Xo @ pose[:3, :3].T + pose[:3, 3]) - xo, axis=1)
    return pose, float(np.median(np.minimum(res, 10.0)))


def _track_poses(K: np.ndarray, world: np.ndarray, xy: np.ndarray, key_w2c: np.ndarray, first: np.ndarray | None
                 ) -> tuple[list[np.ndarray], float]:
    """World-to-camera poses of every frame of a segment by PnP (``first``: pose of frame 1, for the guess)."""
    poses, score = [key_w2c], 0.0
    for i in range(1, len(xy)):
        found = _pnp(K, world, xy[i], first if i == 1 and first is not None else poses[-1])
        if found is None:
            poses.append(poses[-1])
            score += 10.0
        else:
            poses.append(found[0])
            score += found[1]
    return poses, score


def _initialise(K: np.ndarray, xy: np.ndarray, key_w2c: np.ndarray, rots: list[np.ndarray], ref: int,
                baseline: float) -> tuple[list[np.ndarray], np.ndarray, float] | None:
    """Two-view start of a segment: the candidate relative pose of ``ref`` most consistent with all frames
    → ``(poses, world points, mean PnP residual px per frame)``."""
    ok = np.isfinite(xy[ref]).all(1)
    best = None
    for R, t in _candidates(K, xy[0][ok], xy[ref][ok]):
        rel = np.eye(4)
        rel[:3, :3], rel[:3, 3] = R, t * baseline
        world = np.full((xy.shape[1], 3), np.nan)
        world[ok] = _triangulate(K, key_w2c, rel @ key_w2c, xy[0][ok], xy[ref][ok])
        if np.isfinite(world).all(1).sum() < 8:
            continue
        first = np.eye(4)
        first[:3, :3] = rots[1]
        poses, score = _track_poses(K, world, xy, key_w2c, first @ key_w2c)
        if best is None or score < best[0]:
            best = (score, poses, world)
    return None if best is None else (best[1], best[2], best[0] / max(len(xy) - 1, 1))


def _solve_segment(K: np.ndarray, xy: np.ndarray, world: np.ndarray, key_w2c: np.ndarray, baseline: float,
                   info: dict) -> tuple[list[np.ndarray], np.ndarray, str]:
    """World-to-camera poses of a segment's frames, its tracks' world points (NaN: none) and how it was solved."""
    rots, parallax = [np.eye(3)], [0.0]
    for i in range(1, len(xy)):
        ok = np.isfinite(xy[i]).all(1)
        R, p = rotation_fit(K, xy[0][ok], xy[i][ok])
        rots.append(R)
        parallax.append(p)
    ref = int(np.argmax(parallax))
    info["max_parallax_px"] = round(float(parallax[ref]), 3)
    known = np.isfinite(world).all(1)
    if known.sum() >= 12 and (known & np.isfinite(xy[-1]).all(1)).sum() >= 12:
        poses, _score = _track_poses(K, world, xy, key_w2c, None)
        kind = "tracking"
    elif parallax[ref] < ROTATION_ONLY_PX:
        poses = [_rotation_pose(R, key_w2c) for R in rots]
        return poses, world, "rotation"
    else:
        found = _initialise(K, xy, key_w2c, rots, ref, baseline)
        # Translation must earn its keep: tracks that drift under a pure rotation also "fit" some baseline.
        if found is None or found[2] > GENERAL_GAIN * float(np.mean(parallax[1:])):
            return [_rotation_pose(R, key_w2c) for R in rots], world, "rotation"
        poses, fresh, _residual = found
        shared = known & np.isfinite(fresh).all(1)
        if shared.sum() >= 5:
            # Tie the new start to the points already known: scale about the keyframe centre by the depth ratio.
            depth_old = (world[shared] @ key_w2c[:3, :3].T + key_w2c[:3, 3])[:, 2]
            depth_new = (fresh[shared] @ key_w2c[:3, :3].T + key_w2c[:3, 3])[:, 2]
            s = float(np.median(depth_old / depth_new))
            centre = np.linalg.inv(key_w2c)[:3, 3]
            fresh = centre + (fresh - centre) * s
            poses = [_scaled(p, key_w2c, s) for p in poses]
        elif known.any():
            info["scale_break"] = True
        world = np.where(known[:, None], world, fresh)
        kind = "initialised"
    # New tracks: triangulate from the keyframe and the last frame that saw them.
    for j in np.flatnonzero(~np.isfinite(world).all(1)):
        seen = np.flatnonzero(np.isfinite(xy[:, j]).all(1))
        last = seen[-1]
        if last > 0:
            world[j] = _triangulate(K, poses[0], poses[last], xy[0, j:j + 1], xy[last, j:j + 1])[0]
    return poses, world, kind


def _rotation_pose(R: np.ndarray, key_w2c: np.ndarray) -> np.ndarray:
    rel = np.eye(4)
    rel[:3, :3] = R
    return rel @ key_w2c


def _scaled(w2c: np.ndarray, key_w2c: np.ndarray, s: float) -> np.ndarray:
    """``w2c`` with its offset from the keyframe's centre scaled by ``s``."""
    c2w, key = np.linalg.inv(w2c), np.linalg.inv(key_w2c)
    c2w[:3, 3] = key[:3, 3] + (c2w[:3, 3] - key[:3, 3]) * s
    return np.linalg.inv(c2w)


def estimate_two_view(video: np.ndarray, K: np.ndarray, progress: Callable[[str, int, int], None] | None = None
                      ) -> tuple[np.ndarray, dict]:
    """Camera-to-world poses ``(T, 4, 4)`` (frame 0 = identity, OpenCV axes) and an info dict; see the module.

    ``K`` is in trajkit pixels (the top-left pixel's centre is ``(0.5, 0.5)``). ``info["tracks"]`` holds each
    segment's ``(start frame, xy (L, N, 2))`` in OpenCV pixels (NaN once lost), for :func:`track_residual`."""
    K = np.asarray(K, dtype=np.float64).copy()
    K[:2, 2] -= 0.5  # trajkit → OpenCV pixel centres
    T = len(video)
    w2c = [np.eye(4)] * T
    info: dict = {"segments": [], "scale_breaks": [], "rotation_only_frames": 0, "tracks": []}
    points = np.zeros((0, 3))
    carry_xy, carry_id = np.zeros((0, 2), np.float32), np.zeros(0, int)
    baseline, start, gray_k = 1.0, 0, _gray(video[0])
    while start < T - 1:
        fresh = _detect(gray_k, carry_xy, MAX_CORNERS - len(carry_xy))
        pts = np.concatenate([carry_xy, fresh]).astype(np.float32)
        ids = np.concatenate([carry_id, len(points) + np.arange(len(fresh))]).astype(int)
        points = np.concatenate([points, np.full((len(fresh), 3), np.nan)])
        if len(pts) < 8:
            raise TrajkitError(f"no features matched at frame {start}: fewer than 8 corners to track")
        xy, alive, prev, cur, end = [pts.copy()], np.ones(len(pts), bool), gray_k, pts.copy(), start
        while end < T - 1:
            end += 1
            gray = _gray(video[end])
            nxt, ok = _track(prev, gray, cur)
            alive &= ok
            cur = np.where(alive[:, None], nxt, cur)
            xy.append(np.where(alive[:, None], nxt, np.nan))
            prev = gray
            if progress is not None:
                progress("features", end, T - 1)
            if alive.sum() < max(MIN_TRACKS, KEEP * len(pts)):
                break
        if alive.sum() < 8:
            raise TrajkitError(f"no features matched between frames {end - 1} and {end}: the tracks were lost "
                               "(too little texture, or a cut)")
        seg_xy = np.stack(xy)
        seg = {"start": start, "end": end, "tracks": len(pts)}
        poses, world, seg["kind"] = _solve_segment(K, seg_xy, points[ids], w2c[start], baseline, seg)
        if seg.pop("scale_break", False):
            info["scale_breaks"].append(start)
        if seg["kind"] == "rotation":
            info["rotation_only_frames"] += end - start
        points[ids] = world
        w2c[start:end + 1] = poses
        reach = [np.linalg.norm(np.linalg.inv(p)[:3, 3] - np.linalg.inv(poses[0])[:3, 3]) for p in poses]
        baseline = max(reach) if max(reach) > 0 else baseline
        info["segments"].append(seg)
        info["tracks"].append((start, seg_xy))
        if progress is not None:
            progress("mapping", end, T - 1)
        keep = np.isfinite(seg_xy[-1]).all(1)
        carry_xy, carry_id = seg_xy[-1][keep].astype(np.float32), ids[keep]
        start, gray_k = end, prev
    return np.linalg.inv(np.stack(w2c)), info


def track_residual(K: np.ndarray, c2w: np.ndarray, tracks: list[tuple[int, np.ndarray]]) -> float:
    """Median reprojection error (px) of the tracks when triangulated through a camera path: how well ``c2w``
    ``(T, 4, 4)`` with ``K`` (trajkit pixels) explains them. Each track is triangulated from its segment's keyframe
    and the frame farthest from it; segments without a baseline are scored by the pure-rotation fit instead."""
    K = np.asarray(K, dtype=np.float64).copy()
    K[:2, 2] -= 0.5
    w2c = np.linalg.inv(c2w)
    errors = []
    for start, xy in tracks:
        poses = w2c[start:start + len(xy)]
        reach = np.linalg.norm(c2w[start:start + len(xy), :3, 3] - c2w[start, :3, 3], axis=1)
        if reach.max() <= 1e-9 * max(1.0, np.abs(c2w[:, :3, 3]).max()):
            for i in range(1, len(xy)):
                ok = np.isfinite(xy[i]).all(1)
                R = poses[i][:3, :3] @ poses[0][:3, :3].T
                errors.append(np.linalg.norm(_project(K, _bearings(K, xy[0][ok]) @ R.T) - xy[i][ok], axis=1))
            continue
        far = int(np.argmax(reach))
        ok = np.isfinite(xy[far]).all(1)
        import cv2

        X = cv2.triangulatePoints(K @ poses[0][:3], K @ poses[far][:3], xy[0][ok].T.astype(np.float64),
                                  xy[far][ok].T.astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            X = (X[:3] / X[3]).T
        for i in range(1, len(xy)):
            seen = np.isfinite(xy[i][ok]).all(1) & np.isfinite(X).all(1)
            cam = X[seen] @ poses[i][:3, :3].T + poses[i][:3, 3]
            with np.errstate(divide="ignore", invalid="ignore"):
                err = np.linalg.norm(_project(K, cam) - xy[i][ok][seen], axis=1)
            errors.append(np.where(cam[:, 2] > 0, np.nan_to_num(err, nan=1e3), 1e3))
    return float(np.median(np.concatenate(errors))) if errors else float("inf")
