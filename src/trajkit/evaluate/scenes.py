"""Scenes whose true video is known, to measure a renderer against (PSNR/SSIM in :mod:`.frames`).

* :class:`DemoScene` — ``trajkit demo``'s world, ray-cast: a checkered floor ``height`` m below the first camera
  (its +y, which points down), a brick wall ``distance`` m ahead, and a ringed red ball resting on the floor. Every
  colour is a function of the world point alone (Lambert shading under a fixed light, fog by world depth), so a
  static part looks the same from every viewpoint and reprojecting the first frame through the depth map is
  exactly right wherever the surface was seen. The ball rolls left at a constant depth; the track of the point
  of it facing the camera (its pole) is :meth:`DemoScene.ball_track`.
* :func:`sprite_scene` — a textured sprite sliding over a textured background with five tracks on the sprite
  and twelve static anchors; the truth is the sprite pasted at its place in each frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.camera import CameraPath, intrinsics_from_fov
from ..core.tracks import Tracks


@dataclass(frozen=True)
class DemoScene:
    """The demo's world (metres, OpenCV axes of the first camera at the origin)."""

    size: tuple[int, int] = (832, 480)
    hfov: float = 60.0
    height: float = 1.5
    distance: float = 8.0
    ball_radius: float = 0.35
    ball_depth: float = 5.5
    ball_x: tuple[float, float] = (1.45, -1.3)  # world x of the ball's centre at the start and the end

    @property
    def K(self) -> np.ndarray:
        """The camera's intrinsics at :attr:`size`."""
        return intrinsics_from_fov(self.size, self.hfov)

    def ball_centres(self, frames: int) -> np.ndarray:
        """``(T, 3)`` world centres of the ball: rolling left on the floor, eased in and out."""
        s = np.linspace(0.0, 1.0, frames)
        ease = 0.5 - 0.5 * np.cos(np.pi * s)
        x = self.ball_x[0] + (self.ball_x[1] - self.ball_x[0]) * ease
        return np.stack([x, np.full(frames, self.height - self.ball_radius), np.full(frames, self.ball_depth)], -1)

    def ball_track(self, frames: int, fps: float) -> Tracks:
        """The track of the ball's pole (its point facing the camera, ``centre − radius · z``: on the axis it rolls
        about, so it moves with the centre), as the still first camera sees it."""
        pts = self.ball_centres(frames) - np.array([0.0, 0.0, self.ball_radius])
        pix = pts @ self.K.T
        xy = pix[:, :2] / pix[:, 2:]
        return Tracks(xy=xy[:, None], visible=np.ones((frames, 1), bool), size=self.size, fps=fps,
                      meta={"demo": "ball"})

    def still_camera(self, frames: int, fps: float) -> CameraPath:
        """The first camera, not moving, for ``frames`` frames."""
        return CameraPath.static(np.eye(4), self.K, self.size, frames=frames, fps=fps)

    def render(self, camera: CameraPath | None = None, frames: int = 1, fps: float = 16.0,
               ball: bool = True, rolling: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """``(video (T, H, W, 3) uint8, first-frame depth (H, W) float32)`` seen through ``camera`` (default the
        still first camera for ``frames`` frames); the ball rolls when ``rolling``, else rests at its start."""
        cam = camera if camera is not None else self.still_camera(frames, fps)
        if cam.size != self.size:
            cam = cam.rescale(self.size)
        t_count = cam.num_frames
        centres = self.ball_centres(t_count) if rolling else np.repeat(self.ball_centres(1), t_count, axis=0)
        w, h = self.size
        xs, ys = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
        pixels = np.stack([xs, ys, np.ones_like(xs)], -1)
        video = np.empty((t_count, h, w, 3), np.uint8)
        depth0 = None
        for t in range(t_count):
            # Rays with camera z = 1, in the world; float32 is ample at these distances and twice as fast.
            to_world = cam.c2w[t, :3, :3] @ np.linalg.inv(cam.Ks[t])
            dirs = (pixels @ to_world.T).astype(np.float32)
            origin = cam.c2w[t, :3, 3].astype(np.float32)
            rgb, zcam = self._shade(origin, dirs, centres[t] if ball else None)
            video[t] = rgb
            if t == 0:
                depth0 = zcam.astype(np.float32)
        assert depth0 is not None
        return video, depth0

    def _shade(self, origin: np.ndarray, dirs: np.ndarray, centre: np.ndarray | None) -> tuple[np.ndarray,
                                                                                                np.ndarray]:
        """Colours and camera-z (the ray parameter, as rays have camera z = 1) of the nearest hits."""
        inf = np.inf
        dy, dz = dirs[..., 1], dirs[..., 2]
        t_floor = np.where(dy > 1e-9, (self.height - origin[1]) / np.where(dy > 1e-9, dy, 1.0), inf)
        t_wall = np.where(dz > 1e-9, (self.distance - origin[2]) / np.where(dz > 1e-9, dz, 1.0), inf)
        t_floor = np.where(t_floor > 0, t_floor, inf)
        t_wall = np.where(t_wall > 0, t_wall, inf)
        t_ball = np.full(dy.shape, inf)
        if centre is not None:
            oc = origin - centre.astype(np.float32)
            a = (dirs**2).sum(-1)
            b = 2 * (dirs @ oc)
            c = oc @ oc - self.ball_radius**2
            disc = b * b - 4 * a * c
            root = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a)
            t_ball = np.where((disc > 0) & (root > 0), root, inf)
        t_hit = np.minimum(np.minimum(t_floor, t_wall), t_ball)
        miss = ~np.isfinite(t_hit)
        p = origin + np.where(miss, 0.0, t_hit)[..., None] * dirs
        X, Z = p[..., 0], p[..., 2]
        checker = ((np.floor(X / 0.5) + np.floor(Z / 0.5)) % 2)[..., None]
        floor = np.array([70, 110, 80], np.float32) + checker * np.array([90, 80, 60], np.float32)
        fog = np.clip(Z / (self.distance * 1.2), 0, 1)[..., None]
        floor = floor * (1 - 0.5 * fog) + np.array([200, 210, 220], np.float32) * 0.5 * fog
        stripes = 0.5 + 0.5 * np.sin(X * 3.0)[..., None]
        rise = np.clip(-p[..., 1] / self.height, 0, 1)[..., None]
        wall = np.array([200, 170, 120], np.float32) * (0.75 + 0.25 * stripes) * (1 - 0.25 * rise)
        wall = wall * _bricks(X, p[..., 1])[..., None]
        img = np.where((t_floor <= t_wall)[..., None], floor, wall)
        if centre is not None:
            normal = (p - centre.astype(np.float32)) / np.float32(self.ball_radius)
            light = np.array([-0.45, -0.75, -0.5], np.float32)
            lambert = np.clip(normal @ (light / np.linalg.norm(light)), 0, 1)[..., None]
            # Rings around the ball's pole (its point facing +z, on the rolling axis): the pattern is the same
            # however far the ball has rolled, so the rolling ball is rendered exactly, and the pole is a material
            # point a tracker can follow.
            rings = 0.5 + 0.5 * np.cos(np.arccos(np.clip(-normal[..., 2], -1, 1)) * 9.0)[..., None]
            paint = np.array([225, 45, 40], np.float32) + rings * np.array([25, 190, 170], np.float32)
            ball = paint * (0.3 + 0.7 * lambert)
            img = np.where((t_ball < np.minimum(t_floor, t_wall))[..., None], ball, img)
        img = np.where(miss[..., None], np.array([205.0, 215, 230], np.float32), img)  # open sky past the wall's edge
        return np.clip(np.rint(img), 0, 255).astype(np.uint8), t_hit


def _bricks(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Brightness factor of a brick wall at world ``(x, y)`` (y down): 0.4 × 0.2 m bricks in offset courses, each with
    its own tint, and darker mortar — texture in both directions, so points on the wall can be tracked."""
    course = np.floor(y / 0.2)
    shifted = x / 0.4 + 0.5 * (course % 2)
    brick = np.floor(shifted)
    tint = 0.88 + 0.12 * np.sin(brick * 12.9898 + course * 78.233) ** 2
    edge = np.minimum(np.minimum(shifted - brick, brick + 1 - shifted) * 0.4, np.minimum(y / 0.2 - course,
                                                                                         course + 1 - y / 0.2) * 0.2)
    mortar = np.clip(edge / 0.012, 0, 1)  # 1.2 cm joints, anti-aliased by the ramp
    return (tint * (0.7 + 0.3 * mortar)).astype(np.float32)


def demo_truth(camera: CameraPath | None, size: tuple[int, int], frames: int, fps: float,
               rolling: bool = True) -> np.ndarray:
    """The demo scene's true video on a job's canvas and timeline (its camera, or the still first camera)."""
    scene = DemoScene(size=size)
    return scene.render(camera, frames=frames, fps=fps, rolling=rolling)[0]


#: Ray-cast scenes a job can name as its ``reference`` (``scene:NAME``): name → truth renderer.
SCENES = {
    "demo": lambda camera, size, frames, fps: demo_truth(camera, size, frames, fps, rolling=True),
    "demo-still": lambda camera, size, frames, fps: demo_truth(camera, size, frames, fps, rolling=False),
}


def _texture(size: tuple[int, int], seed: int, scale: int, palette: np.ndarray) -> np.ndarray:
    """Smooth random texture ``(H, W, 3)`` float in the colours of ``palette (2, 3)``."""
    import cv2

    w, h = size
    rng = np.random.default_rng(seed)
    noise = rng.random((max(2, h // scale), max(2, w // scale), 2)).astype(np.float32)
    field = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    mix = np.clip(field[..., :1], 0, 1)
    shade = 0.75 + 0.25 * np.clip(field[..., 1:], 0, 1)
    return (palette[0] * (1 - mix) + palette[1] * mix) * shade


def sprite_scene(size: tuple[int, int] = (320, 240), frames: int = 17, shift: tuple[float, float] = (90.0, 20.0),
                 radius: float = 36.0, seed: int = 0) -> tuple[np.ndarray, Tracks, np.ndarray]:
    """``(true video (T, H, W, 3) uint8, tracks, sprite mask of frame 0 (H, W) bool)``.

    A round textured sprite (warm colours) of ``radius`` px starts left of centre and slides by ``shift`` px
    (eased) over a cool textured background. Tracks: five on the sprite (centre and four around it at 0.6 r),
    then twelve static anchors on a ring well outside the sprite's path.
    """
    import cv2

    w, h = size
    background = _texture(size, seed, 16, np.array([[40.0, 90, 130], [90, 160, 150]]))
    sprite_tex = _texture((int(4 * radius), int(4 * radius)), seed + 1, 6,
                          np.array([[230.0, 120, 40], [250, 220, 90]])).astype(np.float32)
    start = np.array([w * 0.32, h * 0.5])
    s = np.linspace(0.0, 1.0, frames)
    ease = (0.5 - 0.5 * np.cos(np.pi * s))[:, None]
    centres = start + ease * np.asarray(shift)
    xs, ys = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    video = np.empty((frames, h, w, 3), np.uint8)
    mask0 = None
    for t, c in enumerate(centres):
        # Anti-aliased disc; the sprite's texture moves with it (sampled at the sprite-local position).
        r = np.hypot(xs - c[0], ys - c[1])
        alpha = np.clip(radius + 0.5 - r, 0, 1)[..., None]
        local = cv2.remap(sprite_tex, (xs - c[0] + 2 * radius - 0.5).astype(np.float32),
                          (ys - c[1] + 2 * radius - 0.5).astype(np.float32), cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
        frame = background * (1 - alpha) + local * alpha
        video[t] = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
        if t == 0:
            mask0 = alpha[..., 0] > 0
    angles = np.arange(4) * np.pi / 2 + np.pi / 4
    offsets = np.concatenate([[[0.0, 0.0]], 0.6 * radius * np.stack([np.cos(angles), np.sin(angles)], -1)])
    on_sprite = centres[:, None, :] + offsets[None]
    ring = np.arange(12) * 2 * np.pi / 12
    mid = start + np.asarray(shift) / 2
    anchors = mid + np.stack([np.cos(ring) * (abs(shift[0]) / 2 + 2.4 * radius),
                              np.sin(ring) * (abs(shift[1]) / 2 + 1.9 * radius)], -1)
    anchors = np.clip(anchors, 4, [w - 4, h - 4])
    xy = np.concatenate([on_sprite, np.broadcast_to(anchors, (frames, 12, 2))], axis=1)
    tracks = Tracks(xy=xy, visible=np.ones(xy.shape[:2], bool), size=size, fps=16.0, meta={"scene": "sprite"})
    assert mask0 is not None
    return video, tracks, mask0
