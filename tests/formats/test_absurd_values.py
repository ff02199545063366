"""Absurd values that parse as numbers: a 10¹² px GenDoP canvas, RealEstate10K timestamps that do not advance,
a one-point Tora trajectory. Each is refused (or warned about) with the field named, never read silently."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import trajkit
from trajkit.formats import re10k, tora
from trajkit.formats._io import FormatWarning


def gendop_doc(data_dir: Path) -> dict:
    return json.loads((data_dir / "gendop/text_rgbd/case1_transforms_cleaning.json").read_text())


def write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("field", ["w", "h"])
def test_gendop_canvas_of_a_trillion_pixels_is_refused_naming_the_side(data_dir: Path, tmp_path: Path,
                                                                       field: str) -> None:
    doc = gendop_doc(data_dir)
    doc[field] = 1e12
    with pytest.raises(trajkit.FormatError, match=rf"\b{field}\b.*1e\+?12|\b{field}\b.*1000000000000"):
        trajkit.load(write(tmp_path / "case1_transforms_cleaning.json", doc))


def test_nerfstudio_canvas_is_bounded_as_well(data_dir: Path, tmp_path: Path) -> None:
    doc = gendop_doc(data_dir)
    doc["w"] = doc["h"] = 1e12
    for frame in doc["frames"]:
        frame["file_path"] = "images/a.png"
        frame.pop("monst3r_im_id", None)
    with pytest.raises(trajkit.FormatError, match=r"frames\[0\]\.w"):
        trajkit.load(write(tmp_path / "transforms.json", doc), format="nerfstudio-json")


def test_a_focal_length_giving_a_half_turn_field_of_view_is_refused(data_dir: Path, tmp_path: Path) -> None:
    # 512 px wide at fl_x = 1e-6 px: 2·atan(256 / 1e-6) is 180° to 7 digits, which no pinhole camera sees.
    doc = gendop_doc(data_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert trajkit.load(write(tmp_path / "case1_transforms_cleaning.json", doc)).size == (512, 208)
    doc["fl_x"] = 1e-6
    assert math.degrees(2 * math.atan(doc["w"] / 2 / doc["fl_x"])) > 179.99
    with pytest.raises(trajkit.FormatError, match=r"fl_x.*field of view"):
        trajkit.load(write(tmp_path / "case1_transforms_cleaning.json", doc))


def re10k_with_stamps(data_dir: Path, tmp_path: Path, stamps: list[int]) -> Path:
    lines = (data_dir / "formats/re10k/0bf152ef84195293.txt").read_text().splitlines()
    rows = [line.split(" ", 1)[1] for line in lines[1:1 + len(stamps)]]
    path = tmp_path / "poses.txt"
    path.write_text("\n".join([lines[0], *(f"{t} {row}" for t, row in zip(stamps, rows, strict=True))]) + "\n")
    return path


@pytest.mark.parametrize("stamps", [[0] * 8, [100, 100, 100, 100], [0, 33367, 66733, 50000, 133467]],
                         ids=["all-zero", "constant", "going-back"])
def test_re10k_timestamps_that_do_not_advance_are_named_in_a_warning(data_dir: Path, tmp_path: Path,
                                                                     stamps: list[int]) -> None:
    path = re10k_with_stamps(data_dir, tmp_path, stamps)
    with pytest.warns(FormatWarning, match=r"timestamps.*do not increase.*fps"):
        cam = re10k.read(path)
    assert cam.fps == re10k.FALLBACK_FPS and cam.num_frames == len(stamps)
    with warnings.catch_warnings():  # an fps hint needs no timestamps, nor do timestamps that do increase
        warnings.simplefilter("error")
        assert re10k.read(path, fps=24.0).fps == 24.0
        # 4 rows 1/25 s apart: (4 − 1) · 10⁶ / 120 000 µs = 25 fps.
        assert re10k.read(re10k_with_stamps(data_dir, tmp_path, [0, 40000, 80000, 120000])).fps == pytest.approx(25)


def test_a_one_point_tora_file_is_refused_naming_its_points(tmp_path: Path) -> None:
    path = tmp_path / "track.txt"
    path.write_text("\n128,96\n\n")
    with pytest.raises(trajkit.FormatError, match=r"1 point.*at least 2"):
        trajkit.load(path, format="tora-txt")
    path.write_text("128,96\n130,97\n")
    assert tora.read(path).num_frames == 2
    assert np.array_equal(tora.read(path).xy[:, 0], [[128, 96], [130, 97]])
