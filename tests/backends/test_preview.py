"""The preview animatic against scenes whose true video is known, and motion measured back with LK.

Truths come from :mod:`trajkit.evaluate.scenes` (a ray-cast world and a pasted sprite), never from the preview's
own output; each figure is also checked to separate a right answer from a wrong one (the still first frame).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trajkit import Tracks, TrajkitError, ValidationError
from trajkit.author import tracks as shapes
from trajkit.author.grammar import parse_moves
from trajkit.backends.base import GenerationRequest
from trajkit.backends.preview import PreviewBackend, render_preview
from trajkit.backends.warp.mesh import MeshDeformer, folded_cells, unfold
from trajkit.backends.warp.regions import track_motion
from trajkit.evaluate.frames import compare_videos
from trajkit.evaluate.scenes import DemoScene, sprite_scene

W, H = 320, 240


def textured_image(seed: int = 0) -> np.ndarray:
    """Smooth random texture (trackable everywhere)."""
    rng = np.random.default_rng(seed)
    noise = rng.random((H // 4, W // 4, 3)).astype(np.float32)
    img = cv2.resize(noise, (W, H), interpolation=cv2.INTER_CUBIC)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def lk_track(frames: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Positions ``(T, P, 2)`` of ``points`` tracked from frame 0 with pyramidal LK (forward, frame to frame)."""
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    out = [points.astype(np.float32)]
    for t in range(1, len(frames)):
        nxt, _status, _ = cv2.calcOpticalFlowPyrLK(gray[t - 1], gray[t], out[-1].reshape(-1, 1, 2), None,
                                                  winSize=(21, 21), maxLevel=3)
        out.append(nxt.reshape(-1, 2))
    return np.stack(out)


def grid_tracks(motion, frames: int = 17) -> Tracks:
    """A 5×4 grid of tracks moved by ``motion(points, s)`` with s in [0, 1]."""
    xs, ys = np.meshgrid(np.linspace(40, W - 40, 5), np.linspace(40, H - 40, 4))
    p0 = np.stack([xs.ravel(), ys.ravel()], axis=-1)
    xy = np.stack([motion(p0, s) for s in np.linspace(0, 1, frames)])
    return Tracks(xy=xy, visible=np.ones(xy.shape[:2], bool), size=(W, H), fps=8)


@pytest.mark.parametrize(
    "motion",
    [
        lambda p, s: p + s * np.array([18.0, -10.0]),  # translation
        lambda p, s: (p - [160, 120]) @ np.array([[1 + 0.08 * s, -0.06 * s], [0.06 * s, 1 + 0.08 * s]]).T
        + [160, 120] + s * np.array([6.0, 4.0]),  # similarity: zoom + rotation + shift
    ],
)
def test_lk_follows_the_tracks(motion) -> None:
    tracks = grid_tracks(motion)
    video = render_preview(textured_image(), tracks).frames
    seen = lk_track(video, tracks.xy[0])
    err = np.linalg.norm(seen - tracks.xy, axis=-1)
    assert np.median(err) <= 1.0


def test_sprite_moves_and_leaves_background_behind() -> None:
    """5 tracks on a sprite, 12 static anchors: ≥ 30 dB against the truth, its old place shows background."""
    truth, tracks, sprite0 = sprite_scene()
    result = render_preview(truth[0], tracks)
    figures = compare_videos(result.frames, truth)
    assert figures["psnr_mean"] >= 30.0
    ghost = np.abs(result.frames[-1].astype(int) - truth[-1].astype(int))[sprite0].mean()
    assert ghost <= 12.0
    # The test can fail: a video that leaves the sprite where it was (no motion) scores far lower.
    still = compare_videos(np.repeat(truth[:1], len(truth), axis=0), truth)
    assert still["psnr_mean"] < figures["psnr_mean"] - 6
    assert np.abs(truth[0].astype(int) - truth[-1].astype(int))[sprite0].mean() > 3 * ghost
    # The mask: the uncovered place is filled (not valid), the sprite's new place is valid.
    assert result.valid[-1][sprite0 & ~np.roll(sprite0, 90, axis=1)].mean() < 0.05
    assert result.info["folded_cells_after"] == 0


def test_static_anchors_stay_put_while_others_move() -> None:
    mover = shapes.path_track([[70, 120], [120, 120]], frames=17, fps=8, size=(W, H))
    anchors = shapes.static_points([[250, 60], [260, 180], [220, 120]], frames=17, fps=8, size=(W, H))
    # A uniform texture has no object to cut out: the mover carries a plain disc (segment=False).
    video = render_preview(textured_image(1), Tracks.concatenate([mover, anchors]), segment=False, region=40).frames
    seen = lk_track(video, anchors.xy[0])
    assert np.linalg.norm(seen - anchors.xy, axis=-1).max() <= 0.5
    moved = lk_track(video, mover.xy[0])
    assert np.linalg.norm(moved[-1] - mover.xy[-1], axis=-1).max() <= 1.5


@pytest.mark.parametrize("moves", ["dolly in 1.5m over 5s while pan right 8deg over 5s", "dolly in 2m over 3s"])
def test_camera_with_depth_matches_the_ray_cast_truth(moves) -> None:
    scene = DemoScene(size=(416, 240))
    camera = parse_moves(moves).path(fps=16, size=scene.size, hfov=scene.hfov).resample(17)
    truth, depth = scene.render(camera, rolling=False)
    result = render_preview(truth[0], None, camera=camera, depth=depth)
    figures = compare_videos(result.frames, truth)
    assert figures["psnr_mean"] >= 32.0
    still = compare_videos(np.repeat(truth[:1], len(truth), axis=0), truth)
    assert still["psnr_mean"] < figures["psnr_mean"] - 8


def test_camera_and_object_motion_compose() -> None:
    """The demo: the ball rolls while the camera dollies and pans; the ball lands where the truth has it.

    The ball's track is its pole (the ringed pattern's centre, a material point on the axis it rolls about), so
    where the pole shows is measurable in both videos: matched against the truth's first-frame bullseye
    (normalised cross-correlation). The silhouette itself is carried as a patch at the pole's depth, so its
    outline is off by the sphere's own parallax (≈ 20 px here) — the pole is what the track promises.
    Without the camera composed in, the pole would be off by the pan (≈ 60 px).
    """
    import cv2

    from trajkit.bridge import add_camera_motion

    scene = DemoScene(size=(416, 240))
    camera = parse_moves("dolly in 1.5m over 5s while pan right 8deg over 5s").path(
        fps=16, size=scene.size, hfov=scene.hfov).resample(17)
    truth, depth = scene.render(camera)
    ball = add_camera_motion(scene.ball_track(17, camera.fps), camera, depth=depth)
    result = render_preview(truth[0], ball, camera=camera, depth=depth)
    x0, y0 = np.round(scene.ball_track(1, 16).xy[0, 0]).astype(int)
    template = truth[0, y0 - 8:y0 + 9, x0 - 8:x0 + 9]

    def pole(frame: np.ndarray) -> np.ndarray:
        score = cv2.matchTemplate(frame, template, cv2.TM_CCOEFF_NORMED)
        _, _, _, (x, y) = cv2.minMaxLoc(score)
        return np.array([x + 8.5, y + 8.5])

    assert np.linalg.norm(pole(truth[0]) - ball.xy[0, 0]) <= 1.0  # the detector finds the pole
    for t in (8, 12):  # the ball is still whole in the frame
        assert np.linalg.norm(pole(result.frames[t]) - pole(truth[t])) <= 4.0
    assert np.linalg.norm(pole(truth[12]) - pole(truth[0])) > 40  # it did move
    assert compare_videos(result.frames, truth)["psnr_mean"] >= 28.0


def test_tracks_leaving_the_canvas_never_snap_back() -> None:
    truth, tracks, sprite0 = sprite_scene(shift=(400.0, 0.0), frames=21)
    inside = (tracks.xy[..., 0] >= 0) & (tracks.xy[..., 0] < W)
    leaving = tracks.replace(visible=tracks.visible & inside)
    result = render_preview(truth[0], leaving)
    # The sprite has gone: its old place shows the background, and the last frame is not the first one again.
    assert np.abs(result.frames[-1].astype(int) - truth[-1].astype(int))[sprite0].mean() <= 12.0
    assert np.abs(result.frames[-1].astype(int) - truth[0].astype(int))[sprite0].mean() > 30


def test_hidden_spans_are_interpolated_and_lost_tracks_coast() -> None:
    xy = np.stack([np.arange(10.0), np.zeros(10)], -1)[:, None]
    vis = np.array([1, 1, 0, 0, 1, 1, 1, 0, 0, 0], bool)[:, None]
    xy[2:4] = 0.0  # ATI writes (0, 0) where a point is hidden
    filled = track_motion(xy, vis)[:, 0, 0]
    np.testing.assert_allclose(filled[:7], np.arange(7.0))
    assert np.all(np.diff(filled[6:]) > 0) and filled[-1] < 6 + 3  # keeps going, slowing down


def test_crossing_tracks_never_fold_the_mesh() -> None:
    """Two tracks that swap places fold a plain MLS mesh; the rendered mesh has no folded cell in any frame."""
    frames = 9
    s = np.linspace(0, 1, frames)[:, None]
    a, b = np.array([120.0, 120.0]), np.array([200.0, 120.0])
    xy = np.stack([a + s * (b - a), b + s * (a - b)], axis=1)
    tracks = Tracks(xy=xy, visible=np.ones((frames, 2), bool), size=(W, H), fps=8)
    deformer = MeshDeformer.build((W, H), xy[0] - 0.5, cell=8)
    raw = deformer.deform(xy[-1] - 0.5 - (xy[-1] - xy[0]), xy[-1] - 0.5)
    moved = deformer.deform(xy[0] - 0.5, xy[-1] - 0.5)
    assert folded_cells(moved, 8).any()  # the case really folds without repair
    fixed, passes = unfold(moved, deformer.vertices, 8)
    assert passes > 0 and not folded_cells(fixed, 8).any()
    assert raw.shape == moved.shape
    # One region holding both tracks (discs of 60 px merge): its mesh must fold or be repaired.
    result = render_preview(textured_image(2), tracks, segment=False, region=60)
    assert result.info["unfolded_frames"] > 0 and result.info["folded_cells_after"] == 0
    # Two separate regions move independently: nothing to repair.
    apart = render_preview(textured_image(2), tracks, segment=False, region=20)
    assert apart.info["unfolded_frames"] == 0


def test_bad_input_is_named() -> None:
    backend = PreviewBackend()
    img = textured_image()
    tracks = grid_tracks(lambda p, s: p + s * 5)
    with pytest.raises(ValidationError, match="image"):
        backend.generate(GenerationRequest(size=(W, H), frames=17, fps=8, tracks=tracks))
    with pytest.raises(ValidationError, match="options"):
        backend.generate(GenerationRequest(size=(W, H), frames=17, fps=8, image=img, tracks=tracks,
                                           options={"blur": 3}))
    with pytest.raises(ValidationError, match=r"tracks\.size"):
        render_preview(img, tracks.replace(size=(100, 100)))
    with pytest.raises(ValidationError, match="visible"):
        render_preview(img, tracks.replace(visible=np.zeros_like(tracks.visible)))
    camera = parse_moves("dolly in 1m over 1s").path(fps=16, size=(W, H), hfov=60).resample(17)
    with pytest.raises(ValidationError, match="aspect"):
        render_preview(img, None, camera=camera, depth=np.ones((100, 100)))
    nan_depth = np.ones((H, W))
    nan_depth[5, 5] = np.nan
    with pytest.raises(TrajkitError, match="finite"):
        render_preview(img, None, camera=camera, depth=nan_depth)
    with pytest.raises(ValidationError, match="cell"):
        render_preview(img, tracks, cell=0)


def test_backend_without_motion_and_with_a_camera_plane() -> None:
    backend = PreviewBackend()
    img = textured_image()
    still = backend.generate(GenerationRequest(size=(W, H), frames=5, fps=8, image=img))
    assert still.frames.shape == (5, H, W, 3) and (still.frames == img).all() and still.valid.all()
    camera = parse_moves("pan left 5deg over 1s").path(fps=8, size=(W, H), hfov=60).resample(9)
    video = backend.generate(GenerationRequest(size=(W, H), frames=9, fps=8, image=img, camera=camera))
    assert video.info["depth"].startswith("plane") and video.valid is not None
    # A pan left moves the picture right: what was at x is at x + shift (fx·tan 5° ≈ 24 px at 60° hfov).
    seen = lk_track(video.frames, np.array([[160.0, 120.0]]))
    assert 20 < seen[-1, 0, 0] - 160 < 28


def test_ati_koi_land_where_asked(data_dir) -> None:
    """ATI's fish example: eight koi tracks that cross. Each tracked point, followed through the preview with LK
    (an independent measurement), lands within 1 px (median) of where the track asks; the crossing tracks tear the
    pond region into one piece per koi instead of folding one mesh (the old preview's swirls)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from preview_ati import lk_follow

    from trajkit.jobs.resolve import resolve_job
    from trajkit.jobs.spec import load_jobs

    ati = data_dir / "ati"
    spec = next(s for s in load_jobs(ati / "test.yaml") if "fish" in (s.image or ""))
    job = resolve_job(spec.model_copy(update={"frames": 41, "fps": 8.0}), ati, 0, "preview")
    video = PreviewBackend().generate(job.request)
    tracks = job.request.tracks
    first = tracks.visible[0]
    seen, reliable = lk_follow(video.frames, tracks.xy[0, first] - 0.5)
    use = reliable & tracks.visible[:, first]
    use[0] = False
    err = np.linalg.norm(seen - (tracks.xy[:, first] - 0.5), axis=-1)[use]
    assert err.size > 40 and np.median(err) <= 1.0
    assert video.info["folded_cells_after"] == 0


def test_entities_move_their_region(tmp_path) -> None:
    """A job with an entity template on an image: the entity's bridged tracks carry a region across the frame, and
    its old place is filled (not valid) in the last frame while the rest of the picture stays put."""
    from PIL import Image

    from trajkit.jobs.resolve import resolve_job
    from trajkit.jobs.spec import JobSpec

    scene = DemoScene(size=(416, 240))
    still, _ = scene.render(frames=1, rolling=False)
    Image.fromarray(still[0]).save(tmp_path / "scene.png")
    spec = JobSpec.model_validate({
        "image": "scene.png", "frames": 17, "fps": 8, "size": [416, 240], "backend": "preview",
        "entities": {"templates": [{"shape": "straight", "length": 1.5, "direction": 90.0}], "prompts": ["a ball"],
                     "distance": 6.0, "ground": 1.0},
    })
    job = resolve_job(spec, tmp_path)
    request = job.request
    assert request.object_tracks is not None and request.camera is None
    video = PreviewBackend().generate(request)
    start = request.object_tracks.xy[0, 0] - 0.5  # the entity's anchor
    end = request.object_tracks.xy[-1, 0] - 0.5
    assert np.linalg.norm(end - start) > 40  # the template really moves across the picture
    x0, y0 = np.clip(np.rint(start), 0, [415, 239]).astype(int)
    assert not video.valid[-1][y0, x0]  # its old place is filled
    # Far from the entity's path the picture is untouched and valid.
    assert video.valid[-1][5:20, 5:20].all() and (video.frames[-1][5:20, 5:20] == still[0][5:20, 5:20]).all()
    assert video.info["moving_tracks"] > 0
