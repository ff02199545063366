"""Track shapes: constant-speed paths through control points, speed profiles, circle zoom, edits."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit import Tracks, ValidationError
from trajkit.author import tracks as shapes


def test_path_is_timed_by_arc_length_not_control_point_spacing() -> None:
    # Unevenly spaced collinear control points: a straight line walked at constant speed.
    t = shapes.path_track([[100, 200], [110, 200], [120, 200], [700, 200]], frames=61, fps=12)
    x = t.xy[:, 0, 0]
    np.testing.assert_allclose(np.diff(x), 10.0, atol=1e-3)
    np.testing.assert_allclose(t.xy[:, 0, 1], 200, atol=1e-6)
    assert t.visible.all() and t.size == (832, 480) and t.fps == 12


def test_path_passes_through_control_points_and_speed_profile() -> None:
    pts = np.array([[100, 100], [400, 300], [700, 120]])
    curve = shapes.catmull_rom(pts)
    for p in pts:
        assert np.linalg.norm(curve - p, axis=1).min() < 1e-9
    lin = shapes.path_track(pts, frames=41)
    slow = shapes.path_track(pts, frames=41, speed="ease-in")
    steps_lin = np.linalg.norm(np.diff(lin.xy[:, 0], axis=0), axis=1)
    steps_slow = np.linalg.norm(np.diff(slow.xy[:, 0], axis=0), axis=1)
    assert steps_lin.std() / steps_lin.mean() < 0.01  # constant speed
    assert steps_slow[0] < steps_slow[-1] / 10  # accelerating
    np.testing.assert_allclose(slow.xy[-1, 0], pts[-1], atol=1e-9)
    assert steps_lin.sum() == pytest.approx(steps_slow.sum(), rel=1e-3)  # same path


def test_start_end_frames() -> None:
    t = shapes.path_track([[0, 0], [100, 0]], frames=20, start=5, end=15)
    assert t.visible[:, 0].tolist() == [False] * 5 + [True] * 10 + [False] * 5
    np.testing.assert_allclose(t.xy[5, 0], [0, 0])
    np.testing.assert_allclose(t.xy[14, 0], [100, 0], atol=1e-9)
    with pytest.raises(ValidationError):
        shapes.path_track([[0, 0], [1, 1]], frames=10, start=8, end=4)


def test_circle_zoom_radius_and_spacing() -> None:
    t = shapes.circle_zoom((400, 240), 50, 150, count=4, frames=81)
    r = np.linalg.norm(t.xy - np.array([400, 240]), axis=-1)
    np.testing.assert_allclose(r[0], 50, atol=1e-4)
    np.testing.assert_allclose(r[-1], 150, atol=1e-4)
    np.testing.assert_allclose(r[40], 100, atol=1e-4)
    np.testing.assert_allclose(t.xy[0, 0], [450, 240], atol=1e-4)  # first point to the right
    np.testing.assert_allclose(t.xy[0, 1], [400, 290], atol=1e-4)  # then +90° (y down)


def test_static_pan_translate_duplicate_edit_span() -> None:
    anchors = shapes.static_points([[10, 20], [30, 40]], frames=11)
    assert np.ptp(anchors.xy, axis=0).max() == 0
    panned = shapes.add_pan(anchors, 100, -50, indices=[1])
    np.testing.assert_allclose(panned.xy[:, 1] - anchors.xy[:, 1], np.linspace(0, 1, 11)[:, None] * [100, -50],
                               atol=1e-4)
    np.testing.assert_allclose(panned.xy[:, 0], anchors.xy[:, 0])
    dup = shapes.duplicate(anchors, 0, (500, 400))
    assert dup.num_tracks == 3
    np.testing.assert_allclose(dup.xy[:, 2], np.broadcast_to([500, 400], (11, 2)))
    edited = shapes.edit_with_falloff(anchors, 0, frame=5, delta=(8, 0))
    shift = edited.xy[:, 0, 0] - anchors.xy[:, 0, 0]
    assert shift[5] == pytest.approx(8)
    assert shift[0] == pytest.approx(8 * np.exp(-0.5 * 25 / shapes.EDIT_SIGMA**2), rel=1e-5)
    # FWHM of 10 frames: half weight 5 frames away.
    assert 8 * np.exp(-0.5 * 25 / shapes.EDIT_SIGMA**2) == pytest.approx(4.0)
    spanned = shapes.set_span(anchors, 1, 3, 8)
    assert spanned.visible[:, 1].sum() == 5 and spanned.visible[:, 0].all()
    combined = Tracks.concatenate([shapes.path_track([[0, 0], [50, 50]], frames=11), anchors])
    assert combined.num_tracks == 3
    with pytest.raises(ValidationError):
        shapes.add_pan(anchors, 1, 1, indices=[5])


def test_cli_tracks_commands_build_one_file(tmp_path) -> None:
    from typer.testing import CliRunner

    import trajkit
    from trajkit.cli.main import app

    out = tmp_path / "t.json"
    runner = CliRunner()
    assert runner.invoke(app, ["tracks", "path", "100,300 400,200 700,320", "--speed", "1,2,1", "-o", str(out)]
                         ).exit_code == 0
    assert runner.invoke(app, ["tracks", "static", "80,400 750,420", "-o", str(out), "--append"]).exit_code == 0
    assert runner.invoke(app, ["tracks", "circle", "--center", "416,240", "--radius", "40:160", "-o", str(out),
                               "--append"]).exit_code == 0
    t = trajkit.load(out)
    assert t.num_tracks == 7 and t.num_frames == 81
    np.testing.assert_allclose(t.xy[-1, 0], [700, 320], atol=1e-3)
    np.testing.assert_allclose(t.xy[:, 1], np.broadcast_to([80, 400], (81, 2)))
    bad = runner.invoke(app, ["tracks", "circle", "--center", "1,1", "--radius", "big", "-o", str(out)])
    assert bad.exit_code == 1 and "--radius" in bad.stderr
    assert trajkit.load(out).num_tracks == 7  # a failed command leaves the saved file alone


def test_edit_with_a_vanishing_sigma_moves_only_the_dragged_frame() -> None:
    """sigma² underflows to 0 for sigma = 1e-200: the weight must still be 1 at the frame and 0 elsewhere, not 0/0."""
    anchors = shapes.static_points([[10, 20]], frames=11)
    edited = shapes.edit_with_falloff(anchors, 0, frame=5, delta=(8, -3), sigma=1e-200)
    shift = edited.xy[:, 0] - anchors.xy[:, 0]
    assert np.isfinite(edited.xy).all()
    np.testing.assert_allclose(shift[5], [8, -3], atol=1e-5)
    assert np.abs(np.delete(shift, 5, axis=0)).max() == 0
