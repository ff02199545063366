"""GenDoP's motion tagger and captions (shared/specs/gendop.md §7.6 test vectors)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trajkit.cli.main import app
from trajkit.core.errors import ValidationError
from trajkit.director.captions import caption, label_of, parse_caption
from trajkit.director.tagging import (
    NUM_LABELS,
    Segment,
    clean_labels,
    label_name,
    outline,
    remove_short_runs,
    step_labels,
    tag,
)
from trajkit.formats import load

VECTORS = {
    "text_rgbd/case1_transforms_cleaning.json": ([(66, 0, 29), (77, 30, 72), (0, 73, 118)], 10, 1),
    "text_rgbd/case2_transforms_cleaning.json": ([(0, 0, 35), (140, 36, 86), (0, 87, 118)], 17, 1),
    "text_rgbd/case3_transforms_cleaning.json": ([(14, 0, 118)], 2, 1),
    "vis/case1.json": ([(14, 0, 14), (0, 15, 30), (17, 31, 83), (14, 84, 118)], 33, 1),
    "vis/case2.json": ([(14, 0, 28), (17, 29, 61), (14, 62, 118)], 5, 1),
    "vis/et1.json": ([(23, 0, 18), (48, 19, 39), (130, 40, 60), (23, 61, 118)], 107, 2),
}


def gl_poses(path: Path) -> np.ndarray:
    doc = json.loads(path.read_text())
    return np.array([f["transform_matrix"] for f in doc["frames"]], dtype=np.float64)


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_tagger_reproduces_spec_vectors(data_dir: Path, name: str) -> None:
    expected, raw_runs, rounds = VECTORS[name]
    labels = step_labels(gl_poses(data_dir / "gendop" / name))
    assert len(labels) == 119
    assert 1 + int((np.diff(labels) != 0).sum()) == raw_runs
    segments, n_rounds = clean_labels(labels)
    assert [(s.label, s.start, s.end) for s in segments] == expected and n_rounds == rounds
    # Through trajkit's reader (OpenGL → OpenCV) and back: the same segments.
    assert [(s.label, s.start, s.end) for s in tag(load(data_dir / "gendop" / name))] == expected


def test_case1_raw_labels_names_and_outline(data_dir: Path) -> None:
    labels = step_labels(gl_poses(data_dir / "gendop" / "text_rgbd" / "case1_transforms_cleaning.json"))
    assert labels[:12].tolist() == [0, 77, 77, 77, 77, 77, 63, 63, 63, 63, 63, 66]
    segments = clean_labels(labels)[0]
    assert outline(segments) == ("\n\nOutline: Total frames 119. \n[Camera motion] Between frames 0 and 29: move right "
                                 "+ yaw left; Between frames 30 and 72: move right and forward; Between frames 73 "
                                 "and 118: static. ")
    assert label_name(0) == "static" and label_name(3) == "static + yaw left" and NUM_LABELS == 189


def test_synthetic_steps_classes() -> None:
    # Camera moving along its own −z (forward in OpenGL) while yawing left (+y): label 7·2 + 3 = 17.
    T = 40
    poses = np.tile(np.eye(4), (T, 1, 1))
    for k in range(T):
        a = 0.01 * k
        poses[k, :3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    for k in range(1, T):
        poses[k, :3, 3] = poses[k - 1, :3, 3] + poses[k - 1, :3, :3] @ np.array([0.0, 0.0, -0.01])
    assert set(step_labels(poses).tolist()) == {17}
    # Dominance: x clearly faster than y → only x ("right"); comparable → both ("right and up").
    for dx, dy, label in ((0.02, 0.005, 9 * 7), (0.02, 0.015, 12 * 7)):
        p = np.tile(np.eye(4), (3, 1, 1))
        p[:, 0, 3] = np.arange(3) * dx
        p[:, 1, 3] = np.arange(3) * dy
        assert step_labels(p).tolist() == [label, label]


def test_short_runs_keep_equal_neighbours_apart() -> None:
    labels = np.array([1] * 12 + [2] * 3 + [1] * 12 + [3] * 4 + [1] * 12)
    runs = remove_short_runs(labels, 10)
    assert [r[0] for r in runs] == [1, 1, 1]  # not merged in the list …
    assert [(s.label, s.start, s.end) for s in clean_labels(labels, window=1)[0]] == [(1, 0, 42)]  # … only flattened


def test_bad_poses() -> None:
    with pytest.raises(ValidationError):
        step_labels(np.eye(4)[None])
    with pytest.raises(ValidationError):
        step_labels(np.full((3, 4, 4), np.nan))


def test_shipped_movement_captions_parse_to_the_tags(data_dir: Path) -> None:
    for k in (1, 2, 3):
        folder = data_dir / "gendop" / "text_rgbd"
        movement = json.loads((folder / f"case{k}_caption.json").read_text())["Movement"]
        segments = tag(load(folder / f"case{k}_transforms_cleaning.json"))
        assert [label_of(*p) for p in parse_caption(movement)] == [s.label for s in segments]


def test_caption_round_trip_over_the_whole_vocabulary() -> None:
    rng = np.random.default_rng(0)
    for trial in range(500):
        labels: list[int] = []
        while len(labels) < rng.integers(1, 5):
            lab = int(rng.integers(NUM_LABELS))
            if not labels or labels[-1] != lab:
                labels.append(lab)
        text = caption([Segment(lab, 0, 1) for lab in labels], seed=trial)
        assert [label_of(*p) for p in parse_caption(text)] == labels, text
    plain = caption([Segment(66, 0, 29), Segment(77, 30, 72), Segment(0, 73, 118)])
    assert plain == ("The camera moves right while yawing left, then moves right and forward, "
                     "and finally remains static.")


def test_parse_caption_synonyms() -> None:
    assert parse_caption("Slowly push in on the subject") == [("forward", "static")]
    assert parse_caption("The camera glides to the right and turns, then pans left") == [
        ("right", "static"), ("static", "yaw left")]
    assert parse_caption("tilt up while rising, then hold still") == [("up", "pitch up"), ("static", "static")]


def test_cli_tag(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["tag", str(data_dir / "gendop" / "vis" / "et1.json"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["label"] for s in doc["segments"]] == [23, 48, 130, 23]
    assert parse_caption(doc["caption"]) == [(s["translation"], s["rotation"]) for s in doc["segments"]]
    bad = CliRunner().invoke(app, ["tag", str(data_dir / "ati" / "tracks" / "fish.pth")])
    assert bad.exit_code == 1 and "not one camera path" in bad.output
