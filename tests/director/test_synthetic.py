"""Synthetic captioned shots: motion, tags and caption agree."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit.author import dolly, glide, pan
from trajkit.director.captions import parse_caption
from trajkit.director.metrics import caption_fscore, frame_labels, weighted_f1
from trajkit.director.synthetic import synthetic_shots
from trajkit.director.tagging import tag


def _pairs(segments):
    return [(s.translation, s.rotation) for s in segments]  # tag() never leaves two equal neighbours


def test_shots_are_120_frames_whose_tags_and_caption_agree():
    shots = list(synthetic_shots(300, seed=11))
    counts = {len(_pairs(s.segments)) for s in shots}
    assert counts == {1, 2, 3, 4}
    labels = set()
    for shot in shots:
        assert shot.camera.num_frames == 120 and shot.camera.fps == 30.0
        assert tag(shot.camera) == shot.segments
        # the caption, read back with the evaluation grammar, names exactly the tagged segments
        assert parse_caption(shot.caption) == _pairs(shot.segments), shot.caption
        labels.update(s.label for s in shot.segments)
    assert len(labels) > 80  # a wide spread of the 189 labels
    assert len({s.caption for s in shots}) == len(shots)


def test_seeds_give_independent_reproducible_sets():
    a = [s.caption for s in synthetic_shots(20, seed=1)]
    assert a == [s.caption for s in synthetic_shots(20, seed=1)]
    assert not set(a) & {s.caption for s in synthetic_shots(20, seed=2)}


def test_glide_moves_along_the_cameras_current_axes():
    steered = glide(forward=1.0, pan=40, duration=4, easing="linear").path(fps=30, frames=120)
    assert [s.name for s in tag(steered)] == ["move forward + yaw right"]
    # a parallel dolly & pan keeps the start axis, so the camera ends up sliding sideways in its own frame
    parallel = (dolly(1.0, duration=4, easing="linear") & pan(40, duration=4, easing="linear")).path(fps=30, frames=120)
    assert [s.name for s in tag(parallel)][-1] == "move left and forward + yaw right"
    # the screw motion: constant body velocity → the path length equals the commanded metres
    steps = np.diff(np.asarray(steered.c2w)[:, :3, 3], axis=0)
    assert np.linalg.norm(steps, axis=1).sum() == pytest.approx(1.0 * 119 / 120, rel=1e-3)


def test_weighted_f1_matches_a_hand_computation():
    target = np.array([0, 0, 1, 1])
    predicted = np.array([0, 1, 1, 1])
    # class 0: P 1, R 1/2, F 2/3; class 1: P 2/3, R 1, F 4/5; support weights 1/2 each
    scores = weighted_f1(predicted, target)
    assert scores["fscore"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert scores["precision"] == pytest.approx((1 + 2 / 3) / 2) and scores["recall"] == pytest.approx(0.75)
    # predictions of a class absent from the targets lower precision only through the present classes
    assert weighted_f1(np.array([5, 5]), np.array([0, 0]))["fscore"] == 0.0


def test_weighted_f1_agrees_with_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    target = rng.integers(0, 30, 500)
    predicted = np.where(rng.random(500) < 0.6, target, rng.integers(0, 40, 500))
    ours = weighted_f1(predicted, target)
    assert ours["fscore"] == pytest.approx(metrics.f1_score(target, predicted, average="weighted", zero_division=0))
    assert ours["precision"] == pytest.approx(
        metrics.precision_score(target, predicted, average="weighted", zero_division=0))


def test_caption_fscore_of_tagged_paths():
    shots = list(synthetic_shots(5, seed=3))
    refs = [s.segments for s in shots]
    assert caption_fscore(refs, refs)["fscore"] == 1.0
    assert len(frame_labels(refs[0])) == 119
    shifted = refs[1:] + refs[:1]
    assert caption_fscore(shifted, refs)["fscore"] < 0.5
