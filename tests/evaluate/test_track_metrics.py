"""Track adherence metrics against closed forms and a loop-by-loop transcription of TAP-Vid's definitions
(Doersch et al. 2022, ``compute_tapvid_metrics``): counts over evaluation points, query frame excluded."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit.core.errors import TrajkitError
from trajkit.core.tracks import Tracks
from trajkit.evaluate.entities import entity_adherence
from trajkit.evaluate.tracks import track_metrics


def _tracks(xy: np.ndarray, visible: np.ndarray | None = None, size: tuple[int, int] = (256, 256)) -> Tracks:
    vis = np.ones(xy.shape[:2], bool) if visible is None else visible
    return Tracks(xy=xy, visible=vis, size=size, fps=16)


def _random_case(seed: int) -> tuple[Tracks, Tracks]:
    rng = np.random.default_rng(seed)
    t, n = 12, 9
    gt = rng.uniform(20, 230, (t, n, 2))
    gt_vis = rng.uniform(size=(t, n)) > 0.25
    gt_vis[0] = True  # every track starts visible at frame 0 (its query frame)
    pred = gt + rng.normal(0, 5, gt.shape)
    pred[0] = gt[0]
    pred_vis = gt_vis ^ (rng.uniform(size=(t, n)) > 0.8)
    return _tracks(gt, gt_vis), _tracks(pred, pred_vis)


def _tapvid_by_loops(gt: Tracks, pred: Tracks, thresholds=(1, 2, 4, 8, 16)) -> dict:
    """TAP-Vid's metrics written out point by point (query frame 0 excluded from every count)."""
    t_count, n_count = gt.visible.shape
    occ_hits = occ_total = 0
    within_frac, jaccards = [], []
    for d in thresholds:
        correct = visible = tp = fp = 0
        for n in range(n_count):
            for t in range(1, t_count):
                dist = float(np.hypot(*(pred.xy[t, n] - gt.xy[t, n])))
                gv, pv, near = bool(gt.visible[t, n]), bool(pred.visible[t, n]), dist < d
                if d == thresholds[0]:
                    occ_hits += gv == pv
                    occ_total += 1
                visible += gv
                correct += gv and near
                tp += gv and near and pv
                fp += pv and (not gv or not near)
        within_frac.append(correct / visible)
        jaccards.append(tp / (visible + fp))
    return {"delta_avg": np.mean(within_frac), "average_jaccard": np.mean(jaccards), "occlusion_accuracy":
            occ_hits / occ_total}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_tapvid_definitions(seed: int) -> None:
    gt, pred = _random_case(seed)
    ours = track_metrics(gt, pred)
    ref = _tapvid_by_loops(gt, pred)
    for key, value in ref.items():
        assert ours[key] == pytest.approx(value, abs=1e-12), key


def test_closed_forms() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(30, 200, (10, 5, 2))
    gt = _tracks(xy)
    same = track_metrics(gt, gt)
    assert same["epe_px"] == 0 and same["delta_avg"] == 1 and same["occlusion_accuracy"] == 1
    assert same["average_jaccard"] == 1 and same["evaluated_points"] == 9 * 5
    shifted = xy + np.array([3.0, 0.0])
    shifted[0] = xy[0]
    m = track_metrics(gt, _tracks(shifted))
    assert m["epe_px"] == pytest.approx(3.0) and m["epe_median_px"] == pytest.approx(3.0)
    assert m["delta"] == {"<1": 0.0, "<2": 0.0, "<4": 1.0, "<8": 1.0, "<16": 1.0}
    assert m["delta_avg"] == pytest.approx(0.6) and m["average_jaccard"] == pytest.approx(0.6)
    assert m["epe_pct_diagonal"] == pytest.approx(100 * 3 / np.hypot(256, 256))
    assert m["epe_per_frame"][0] is None and m["epe_per_frame"][1] == pytest.approx(3.0)
    # TAP-Vid's 256×256 convention: the same tracks on a 512-wide canvas are scored at half the error.
    wide = track_metrics(_tracks(xy * [2, 1], size=(512, 256)), _tracks(shifted * [2, 1], size=(512, 256)),
                         resolution=(256, 256))
    assert wide["epe_px"] == pytest.approx(3.0)


def test_wrong_tracks_score_badly() -> None:
    """The metric must be able to fail: another job's tracks are far off."""
    gt, pred = _random_case(4)
    other, _ = _random_case(5)
    good, bad = track_metrics(gt, pred), track_metrics(gt, other)
    assert bad["epe_px"] > 5 * good["epe_px"] and bad["delta_avg"] < 0.2


def test_hidden_measurements_lower_occlusion_accuracy() -> None:
    xy = np.random.default_rng(6).uniform(30, 200, (5, 4, 2))
    hidden = np.ones((5, 4), bool)
    hidden[1:, 0] = False  # the tracker lost track 0 after its query frame
    m = track_metrics(_tracks(xy), _tracks(xy, hidden))
    assert m["occlusion_accuracy"] == pytest.approx(12 / 16)
    assert m["delta_avg"] == 1.0  # positions are right; only visibility is wrong
    assert m["average_jaccard"] == pytest.approx(12 / 16)


def test_mismatch_and_nothing_to_compare() -> None:
    xy = np.zeros((5, 2, 2)) + 10
    with pytest.raises(TrajkitError, match="measured"):
        track_metrics(_tracks(xy), _tracks(xy[:4]))
    only_query = np.zeros((5, 2), bool)
    only_query[0] = True
    with pytest.raises(TrajkitError, match="nothing to compare"):
        track_metrics(_tracks(xy, only_query), _tracks(xy))


def test_entity_adherence_tells_a_follower_from_a_stray() -> None:
    t = np.linspace(0, 1, 17)
    path = np.stack([40 + 150 * t, 100 + 20 * t], -1)
    ring = np.array([[0, 0], [10, 0], [0, 10], [-10, 0], [0, -10]], float)
    a = path[:, None] + ring
    b = path[:, None] + ring + [0, 80]
    requested = _tracks(np.concatenate([a, b], axis=1))
    stray = np.concatenate([a + 0.4, b + np.array([50.0, 0]) * t[:, None, None]], axis=1)
    stray[0] = requested.xy[0]
    rows = entity_adherence(requested, _tracks(stray), [("follows", 0, 5), ("strays", 5, 10)])
    assert rows[0]["adherent"] and rows[0]["path_error_px"] < 1
    assert not rows[1]["adherent"] and rows[1]["path_error_max_px"] == pytest.approx(50.0, abs=1e-6)
    assert rows[1]["anchor_epe_px"] > 10
    with pytest.raises(TrajkitError, match="spans tracks"):
        entity_adherence(requested, _tracks(stray), [("x", 5, 20)])
