"""The move grammar and ``trajkit camera``: parses to the same geometry as the API, errors name the token."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import trajkit
from trajkit.author import camera as mv
from trajkit.author.grammar import MoveSyntaxError, parse_moves
from trajkit.cli.main import app


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dolly in 1m over 2s, then pan left 30deg", mv.dolly(1.0, 2.0).then(mv.pan(-30, 2.0))),
        ("pan right 30° over 3s linear", mv.pan(30, 3.0, "linear")),
        ("truck left 50cm; pedestal up 0.25m for 500ms", mv.truck(-0.5).then(mv.pedestal(0.25, 0.5))),
        ("dolly out 2m while tilt down 10deg", mv.dolly(-2.0) & mv.tilt(-10)),
        ("orbit left 45deg around 4m ease-in", mv.orbit(-45, 4.0, easing="ease-in")),
        ("orbit up 20deg at 2m", mv.orbit(20, 2.0, vertical=True)),
        ("crane down 1m around 5m then hold 1s", mv.crane(-1.0, 5.0).then(mv.hold(1.0))),
        ("zoom out 2x over 1s", mv.zoom(0.5, 1.0)),
        ("roll -15deg + dolly forward 1m", mv.roll(-15) & mv.dolly(1.0)),
    ],
)
def test_parses_to_the_api_move(text: str, expected: mv.Move) -> None:
    got = parse_moves(text)
    assert got.duration == pytest.approx(expected.duration)
    a, b = got.path(fps=10), expected.path(fps=10)
    np.testing.assert_allclose(a.c2w, b.c2w, atol=1e-12)
    np.testing.assert_allclose(a.Ks, b.Ks, atol=1e-9)


@pytest.mark.parametrize(
    ("text", "token", "position"),
    [
        ("dolly in 1m over 2s, thn pan left 30deg", "thn", 21),
        ("pan sideways 30deg", "sideways", 4),
        ("dolly in 1 over 2s", "over", 11),
        ("pan left 30m", "m", 11),
        ("", "end of text", 0),
        ("pan left 30deg over 2s quickly", "quickly", 23),
        ("zoom in 0x", "zoom", 0),
        ("pan left 30deg $", "$", 15),
    ],
)
def test_errors_name_token_position_and_verbs(text: str, token: str, position: int) -> None:
    with pytest.raises(MoveSyntaxError) as info:
        parse_moves(text)
    err = info.value
    assert err.token == token and err.position == position
    assert "valid verbs: pan, tilt, roll, truck, pedestal, dolly, zoom, orbit, crane, hold" in str(err)
    assert isinstance(err, trajkit.TrajkitError)


def test_cli_camera_writes_the_path(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cam.json"
    result = runner.invoke(app, ["camera", "dolly in 1m over 2s, then pan left 30deg", "-o", str(out), "--fps", "8"])
    assert result.exit_code == 0, result.stderr
    cam = trajkit.load(out)
    assert cam.num_frames == 33 and cam.fps == 8
    np.testing.assert_allclose(cam.centers[-1], [0, 0, 1.0], atol=1e-12)
    bad = runner.invoke(app, ["camera", "spin 3 times", "-o", str(tmp_path / "x.json")])
    assert bad.exit_code == 1 and "valid verbs" in bad.stderr and "Traceback" not in bad.output
    assert not (tmp_path / "x.json").exists()
