"""`trajkit viz ...` commands write what they say, and fail with one line on bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from trajkit.cli.main import app
from trajkit.viz.video import read_mp4, write_mp4

runner = CliRunner()


def test_viz_commands(data_dir: Path, tmp_path: Path) -> None:
    ati = data_dir / "ati"
    r = runner.invoke(app, ["viz", "tracks", str(ati / "images" / "human.jpg"), str(ati / "tracks" / "human.pth"),
                            "-o", str(tmp_path / "human.png")])
    assert r.exit_code == 0, r.stderr
    assert Image.open(tmp_path / "human.png").size == (644, 926)
    frames = np.full((9, 120, 160, 3), 90, np.uint8)
    write_mp4(tmp_path / "v.mp4", frames, 8)
    r = runner.invoke(app, ["viz", "overlay", str(tmp_path / "v.mp4"), "example:tracks", "-o",
                            str(tmp_path / "o.mp4")])
    assert r.exit_code == 0, r.stderr
    video, _ = read_mp4(tmp_path / "o.mp4")
    assert video.shape == (9, 120, 160, 3) and (np.abs(video.astype(int) - 90) > 40).any()
    r = runner.invoke(app, ["viz", "camera", str(data_dir / "gendop" / "vis" / "case2.json"), "-o",
                            str(tmp_path / "c.png")])
    assert r.exit_code == 0 and Image.open(tmp_path / "c.png").size[0] > 900
    r = runner.invoke(app, ["viz", "entities", str(data_dir / "trajmaster" / "D_loc1_61_t3n13_003d_Hemi12_1.json"),
                            "-o", str(tmp_path / "e.png")])
    assert r.exit_code == 0 and (tmp_path / "e.png").is_file()
    bad = runner.invoke(app, ["viz", "camera", "example:tracks", "-o", str(tmp_path / "x.png")])
    assert bad.exit_code == 1 and "not one camera path" in bad.stderr and not (tmp_path / "x.png").exists()
