"""Entity paths → tracks: 360°-Motion through rig camera 12, footprints, visibility."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import trajkit
from trajkit import ValidationError
from trajkit.bridge import entities_to_tracks, entity_points


@pytest.fixture
def example(data_dir: Path) -> trajkit.EntityPaths:
    return trajkit.load(data_dir / "trajmaster" / "D_loc1_61_t3n13_003d_Hemi12_1.json")


def test_360_motion_entities_land_inside_the_frame_of_rig_camera_12(example: trajkit.EntityPaths) -> None:
    assert example.camera is not None and example.camera.size == (720, 480)
    tracks = entities_to_tracks(example, ground=0.0, footprint=0)
    in_front = example.in_camera()[..., 2, 3].T > 0  # (T, E)
    assert in_front.all()
    assert tracks.visible.all()
    x, y = tracks.xy[..., 0], tracks.xy[..., 1]
    assert ((x >= 0) & (x < 720) & (y >= 0) & (y < 480)).all()
    # Entity 0 walks straight from camera-right (t_x = +1.961 m) to camera-left (t_x = −1.215 m).
    assert x[10, 0] > 360 > x[91, 0]
    assert np.all(np.diff(x[10:92, 0]) < 0)


def test_pivots_float_above_the_image_without_a_ground_offset(example: trajkit.EntityPaths) -> None:
    # trajmaster.md §2.4: pivots sit 1.47 m above the target plane and project near or above the top edge.
    tracks = entities_to_tracks(example, footprint=0)
    assert (tracks.xy[..., 1] < 0).all() and not tracks.visible.any()


def test_footprint_ring_turns_with_the_entity() -> None:
    poses = np.tile(np.eye(4), (1, 2, 1, 1))
    poses[0, :, :3, 3] = (0.0, 0.0, 5.0)
    c, s = np.cos(np.pi / 2), np.sin(np.pi / 2)
    poses[0, 1, :3, :3] = [[c, 0, s], [0, 1, 0], [-s, 0, c]]  # turned 90° about its own (down) y axis
    ents = trajkit.EntityPaths(poses=poses, prompts=["a box"], fps=8)
    pts = entity_points(ents, footprint=4, radius=0.5)
    assert pts.shape == (2, 5, 3)
    np.testing.assert_allclose(pts[0, 1], [0.5, 0, 5.0], atol=1e-12)  # +x of the entity
    np.testing.assert_allclose(pts[1, 1], [0.0, 0, 4.5], atol=1e-12)  # +x now points along −z
    np.testing.assert_allclose(np.linalg.norm(pts[:, 1:] - pts[:, :1], axis=-1), 0.5, atol=1e-12)


def test_behind_the_camera_is_invisible_and_camera_required() -> None:
    poses = np.tile(np.eye(4), (1, 3, 1, 1))
    poses[0, :, 2, 3] = [4.0, 1.0, -2.0]  # ahead, ahead, behind
    cam = trajkit.CameraPath(c2w=np.eye(4), K=[[300, 0, 160], [0, 300, 120], [0, 0, 1]], size=(320, 240), fps=8)
    ents = trajkit.EntityPaths(poses=poses, prompts=["a ball"], fps=8)
    tracks = entities_to_tracks(ents, cam, footprint=0)
    assert tracks.visible[:, 0].tolist() == [True, True, False]
    np.testing.assert_allclose(tracks.xy[0, 0], [160, 120])
    with pytest.raises(ValidationError, match="camera"):
        entities_to_tracks(ents)


def test_cli_entities_to_tracks(data_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trajkit.cli.main import app

    out = tmp_path / "tracks.json"
    src = data_dir / "trajmaster" / "D_loc1_61_t3n13_003d_Hemi12_1.json"
    result = CliRunner().invoke(app, ["bridge", "entities-to-tracks", str(src), "--footprint", "2", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    tracks = trajkit.load(out)
    assert tracks.num_tracks == 9 and tracks.num_frames == 99 and tracks.size == (720, 480)
    assert tracks.visible[:, ::3].all()  # every entity anchor (ground contact) is in view
    bad = CliRunner().invoke(app, ["bridge", "entities-to-tracks", "example:camera", "-o", str(tmp_path / "x.json")])
    assert bad.exit_code == 1 and "not entity paths" in bad.stderr
