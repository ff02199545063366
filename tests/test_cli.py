"""The ``trajkit`` command line: info, convert, formats; errors as one line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import trajkit
from trajkit.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_info_json_for_ati_tracks(data_dir: Path) -> None:
    code, out, _ = run("info", data_dir / "ati/tracks/bear.pth", "--image", data_dir / "ati/images/bear.jpg", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["format"] == "ati-pth" and info["type"] == "tracks"
    assert info["frames"] == 121 and info["fps"] == 24 and info["tracks"] == 4 and info["canvas"] == [3984, 2656]
    assert info["visible_frames_per_track"] == [96, 121, 121, 121]


def test_info_camera_and_entities(data_dir: Path) -> None:
    code, out, _ = run("info", data_dir / "formats/re10k/0c11dbe781b1c11c.txt", "--json")
    info = json.loads(out)
    assert code == 0 and info["type"] == "camera" and info["frames"] == 16
    assert info["rotation_start_to_end_deg"] == pytest.approx(27.98, abs=0.01)  # ecosystem.md §11 "Rot. 1→16"
    assert info["max_rotation_from_start_deg"] >= info["rotation_start_to_end_deg"]
    code, out, _ = run("info", data_dir / "trajmaster/D_loc1_61_t3n13_003d_Hemi12_1.json", "--json")
    info = json.loads(out)
    assert code == 0 and info["entities"] == 3 and info["frames"] == 99
    assert info["path_length_per_entity"][0] == pytest.approx(3.84, abs=0.01)  # straight line of 3.84 m


def test_info_bundled_example_human_output() -> None:
    code, out, _ = run("info", "example:tracks")
    assert code == 0 and "trajkit-json" in out and "tracks" in out


def test_convert_resamples_for_ati_and_back(data_dir: Path, tmp_path: Path) -> None:
    dst = tmp_path / "from_wanmove.pth"
    code, out, _ = run("convert", data_dir / "formats/wanmove/example_tracks.npy", dst, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["output_format"] == "ati-pth" and "121" in result["notes"][0]
    back = trajkit.load(dst, size=(832, 480))
    assert back.num_frames == 121 and back.fps == pytest.approx(24.0)
    src = trajkit.load(data_dir / "formats/wanmove/example_tracks.npy")
    np.testing.assert_allclose(back.xy[-1], src.xy[-1], atol=1e-3)  # same duration: ends at the same point


def test_convert_size_fps_frames(data_dir: Path, tmp_path: Path) -> None:
    dst = tmp_path / "bear.json"
    code, _, _ = run("convert", data_dir / "ati/tracks/bear.pth", dst, "--image", data_dir / "ati/images/bear.jpg",
                     "--size", "832x480", "--frames", "81", "--method", "ati", "-q")
    assert code == 0
    t = trajkit.load(dst)
    assert t.size == (832, 480) and t.num_frames == 81 and t.fps == pytest.approx(16.0)


def test_convert_camera_set_needs_camera(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "formats/recammaster/camera_extrinsics.json"
    code, _, err = run("convert", src, tmp_path / "cam.txt", "--to", "re10k-txt")
    assert code == 1 and "--camera" in err
    code, _, _ = run("convert", src, tmp_path / "cam.txt", "--to", "re10k-txt", "--camera", "cam03", "-q")
    assert code == 0 and trajkit.load(tmp_path / "cam.txt").num_frames == 81


@pytest.mark.parametrize(
    "args",
    [
        ("info", "no/such/file.json"),
        ("info", "example:nope"),
        ("info", "pyproject.toml"),
        ("convert", "example:tracks", "out.xyz"),
        ("convert", "example:tracks", "out.json", "--size", "big"),
        ("convert", "example:tracks", "out.json", "--to", "nope"),
        ("convert", "example:tracks", "out.txt", "--to", "re10k-txt"),
    ],
)
def test_bad_input_is_one_error_line(args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(*args)
    assert code == 1
    assert err.startswith("error:") and "Traceback" not in err + out
    assert not list(tmp_path.glob("out*"))  # nothing half-written


def test_hostile_upload_via_cli(tmp_path: Path) -> None:
    import pickle
    import zipfile

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple:
            import os

            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pth"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("x/data.pkl", pickle.dumps(Exploit(), protocol=2))
    code, _, err = run("info", evil)
    assert code == 1 and "not allowed" in err and not marker.exists()


def test_formats_and_help() -> None:
    code, out, _ = run("formats", "--json")
    names = {f["name"] for f in json.loads(out)}
    assert code == 0 and {"ati-pth", "comfyui-json", "re10k-txt", "trajmaster-json", "trajkit-json"} <= names
    for cmd in ("info", "convert", "formats"):
        code, out, _ = run(cmd, "--help")
        assert code == 0 and "Usage" in out
    code, out, _ = run("--version")
    assert code == 0 and trajkit.__version__ in out
