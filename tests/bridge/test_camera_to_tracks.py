"""Camera path → tracks, checked against independent geometry (plane homography, ray casting) and
GenDoP's real paths with their depth maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import trajkit
from trajkit import ValidationError
from trajkit.author import camera as mv
from trajkit.bridge import camera_to_tracks, grid_points
from trajkit.core.camera import invert_rigid


def moving_camera() -> trajkit.CameraPath:
    return (mv.truck(0.6) & mv.pan(12) & mv.dolly(0.8) & mv.tilt(-5)).path(fps=8, size=(640, 360))


def test_plane_tracks_follow_the_plane_homography() -> None:
    cam = moving_camera()
    d = 4.0
    tracks = camera_to_tracks(cam, fallback="plane", distance=d, grid=9)
    x0 = np.concatenate([tracks.xy[0], np.ones((tracks.num_tracks, 1))], axis=1)
    n = np.array([0.0, 0.0, 1.0])
    for t in range(cam.num_frames):
        rel = invert_rigid(cam.c2w[t]) @ cam.c2w[0]  # frame-0 camera coordinates → frame-t camera coordinates
        H = cam.Ks[t] @ (rel[:3, :3] + np.outer(rel[:3, 3], n) / d) @ np.linalg.inv(cam.Ks[0])
        x = x0 @ H.T
        expected = x[:, :2] / x[:, 2:]
        vis = tracks.visible[t]
        assert vis.any()
        assert np.abs(tracks.xy[t, vis] - expected[vis]).max() <= 0.5


def test_tracks_land_where_a_ray_cast_render_sees_the_same_surface_point() -> None:
    cam = moving_camera()
    d = 5.0
    tracks = camera_to_tracks(cam, fallback="plane", distance=d, grid=7)
    # Plane n·X = d in frame-0 camera coordinates, as a world-space plane.
    normal_w = cam.c2w[0, :3, :3] @ np.array([0.0, 0.0, 1.0])
    offset = normal_w @ cam.c2w[0, :3, 3] + d
    K0inv = np.linalg.inv(cam.Ks[0])
    start_rays = np.concatenate([tracks.xy[0], np.ones((tracks.num_tracks, 1))], axis=1) @ K0inv.T
    for t in (4, cam.num_frames - 1):
        for n in np.nonzero(tracks.visible[t])[0]:
            # Cast the ray through the tracked pixel of frame t and intersect it with the plane.
            ray = cam.c2w[t, :3, :3] @ (np.linalg.inv(cam.Ks[t]) @ [*tracks.xy[t, n], 1.0])
            origin = cam.c2w[t, :3, 3]
            hit = origin + ray * (offset - normal_w @ origin) / (normal_w @ ray)
            # The surface point seen there is the tracked one: same pixel in frame 0 (texture coordinate).
            local = invert_rigid(cam.c2w[0]) @ [*hit, 1.0]
            seen = (cam.Ks[0] @ local[:3])[:2] / local[2]
            assert np.abs(seen - tracks.xy[0, n]).max() <= 0.5
            assert np.allclose(start_rays[n] * d, local[:3], atol=1e-6)


def test_points_behind_the_camera_or_out_of_frame_are_invisible() -> None:
    through = mv.dolly(5.0, duration=2).path(fps=8)
    tracks = camera_to_tracks(through, fallback="plane", distance=3.0, grid=3)
    assert tracks.visible[0].all()
    assert not tracks.visible[-1].any()  # the plane is now 2 m behind the camera
    turn = mv.pan(80, duration=2).path(fps=8)
    tracks = camera_to_tracks(turn, fallback="plane", distance=3.0, grid=3)
    assert tracks.visible[0].all() and not tracks.visible[-1].any()  # the plane left the frame
    left_column = tracks.xy[:, 0, 0]
    assert left_column[3] < left_column[0]  # panning right moves the scene left


def test_depth_map_of_a_plane_equals_the_plane_fallback() -> None:
    cam = moving_camera()
    flat = np.full((90, 160), 4.0)
    a = camera_to_tracks(cam, depth=flat, grid=6)
    b = camera_to_tracks(cam, fallback="plane", distance=4.0, grid=6)
    np.testing.assert_allclose(a.xy, b.xy, atol=1e-9)
    assert (a.visible <= b.visible).all() and a.visible.mean() > 0.9 * b.visible.mean()


def test_background_is_hidden_exactly_while_the_box_covers_it() -> None:
    depth = np.full((90, 160), 8.0)
    depth[30:60, 60:100] = 2.0  # a near box (canvas x 240..400) in front of a far wall
    cam = mv.truck(1.0, duration=2).path(fps=8, size=(640, 360))
    points = np.array([[320.0, 180.0], [228.0, 180.0], [200.0, 180.0], [160.0, 180.0]])  # box, then wall points
    tracks = camera_to_tracks(cam, depth=depth, points=points)
    assert tracks.visible[:, 0].all()  # the box is never hidden
    f = cam.Ks[0][0, 0]
    shift_box = f * cam.centers[:, 0] / 2.0  # parallax of the box (2 m) and of the wall (8 m), independently
    shift_wall = f * cam.centers[:, 0] / 8.0
    hidden_seen = 0
    for n in (1, 2, 3):
        wall_x = points[n, 0] - shift_wall
        left, right = 240 - shift_box, 400 - shift_box
        covered = (wall_x > left + 8) & (wall_x < right - 8)
        clear = (wall_x < left - 8) | (wall_x > right + 8)
        assert not tracks.visible[covered, n].any()
        assert tracks.visible[clear, n].all()
        hidden_seen += covered.sum()
    assert hidden_seen > 5


def test_ground_fallback_and_grid() -> None:
    cam = mv.dolly(1.0).path(fps=4, size=(640, 360))
    tracks = camera_to_tracks(cam, fallback="ground", distance=10.0, height=1.5, grid=(4, 3))
    np.testing.assert_allclose(tracks.xy[0], grid_points((640, 360), (4, 3)), atol=1e-9)
    bottom = tracks.xy[:, -1, 1]  # a ground point below the horizon moves down as the camera dollies in
    assert bottom[-1] > bottom[0]
    with pytest.raises(ValidationError):
        camera_to_tracks(cam, fallback="sky")
    with pytest.raises(ValidationError):
        camera_to_tracks(cam, depth=np.full((4, 4), np.nan))


# GenDoP's Movement tags (gendop.md §7.6): label ranges are step indices k (frame k → k+1).
SEGMENTS = {
    1: [(0, 29, "right"), (30, 72, "right forward")],
    2: [(0, 35, "static"), (36, 86, "left forward")],
    3: [(0, 118, "forward")],
}


@pytest.mark.parametrize("case", [1, 2, 3])
def test_gendop_paths_with_their_depth_agree_with_the_movement_caption(data_dir: Path, case: int) -> None:
    folder = data_dir / "gendop" / "text_rgbd"
    cam = trajkit.load(folder / f"case{case}_transforms_cleaning.json")
    tracks = camera_to_tracks(cam, depth=np.load(folder / f"case{case}_depth.npy"), grid=12)
    np.testing.assert_allclose(tracks.xy[0], grid_points(cam.size, 12), atol=1e-3)
    assert tracks.visible[0].all()
    centre = cam.Ks[0][:2, 2]
    for start, end, words in SEGMENTS[case]:
        a, b = start, end + 1
        both = tracks.visible[a] & tracks.visible[b]
        assert both.sum() >= 4
        dx = (tracks.xy[b, both, 0] - tracks.xy[a, both, 0]).mean()
        radial = (np.linalg.norm(tracks.xy[b, both] - centre, axis=1)
                  / np.linalg.norm(tracks.xy[a, both] - centre, axis=1)).mean()
        if "right" in words:
            assert dx < -10  # the camera moves right: the scene slides left
        if "left" in words:
            assert dx > 10
        if "forward" in words:
            assert radial > 1.1  # moving forward: points spread out from the centre
        if words == "static":
            assert abs(dx) < 5 and radial < 1.05


def test_cli_bridge_camera_to_tracks(data_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trajkit.cli.main import app

    folder = data_dir / "gendop" / "text_rgbd"
    out = tmp_path / "tracks.pth"
    result = CliRunner().invoke(app, ["bridge", "camera-to-tracks", str(folder / "case3_transforms_cleaning.json"),
                                      "--depth", str(folder / "case3_depth.npy"), "--image",
                                      str(folder / "case3_rgb.png"), "--grid", "4", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    tracks = trajkit.load(out, image=folder / "case3_rgb.png")
    assert tracks.num_tracks == 16 and tracks.num_frames == 121 and tracks.size == (512, 288)
    np.testing.assert_allclose(tracks.xy[0], grid_points((512, 288), 4), atol=0.125)  # ATI stores 1/8 px
    bad = CliRunner().invoke(app, ["bridge", "camera-to-tracks", "example:tracks", "-o", str(tmp_path / "x.json")])
    assert bad.exit_code == 1 and "not a camera path" in bad.stderr
