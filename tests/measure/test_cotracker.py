"""CoTracker3 (``trajkit.measure.cotracker``) against the original implementation.

Fidelity fixtures (``fixtures/cotracker3_offline.npz``, ``cotracker3_online.npz``, ``cotracker3_keys.json``) were
made by ``tests/measure/cotracker_fixture.py`` from facebookresearch/co-tracker at commit
``82e02e8029753ad4ef13cf06be7f4fc5facdda4d``::

    git --git-dir=<mirror of facebookresearch/co-tracker> archive 82e02e8 cotracker | tar -x -C /tmp/cotracker_ref
    .venv/bin/python tests/measure/cotracker_fixture.py /tmp/cotracker_ref

* networks of the released layout (``CoTrackerThreeOffline(window_len=60)``, ``CoTrackerThreeOnline(window_len=16)``)
  with ``model_resolution = (64, 96)``, every state-dict tensor filled by ``cotracker_fixture.fill_value`` (normal
  values seeded by ``crc32(key)``, scaled per kind; reproduced here, the weights are not stored);
* offline: a 10-frame 48×72 drifting texture, 8 queries on frames 0…9, ``CoTrackerPredictor(...)(video,
  queries=q, backward_tracking=True)``; online: a 20-frame clip (two windows, the second one padded), 8 queries on
  frames 0…19, ``CoTrackerOnlinePredictor`` fed as ``online_demo.py`` does;
* stored: the clip, the trajkit queries (the original got ``(t, x − 0.5, y − 0.5)``), the predictors' tracks and
  visibility and the probabilities behind it (captured by wrapping the network's ``forward`` and the offline
  predictor's ``_compute_backward_tracks``), and the original state-dict layout.

Nothing from the original repository is imported here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from cotracker_fixture import FIXTURES, MODEL_RESOLUTION, fill_network  # noqa: E402

from trajkit.core.errors import TrajkitError  # noqa: E402
from trajkit.measure.cotracker import track_cotracker  # noqa: E402
from trajkit.measure.cotracker.model import CoTrackerThreeOffline, CoTrackerThreeOnline  # noqa: E402
from trajkit.measure.cotracker.predict import OFFLINE_VISIBLE, ONLINE_VISIBLE, cotracker_result  # noqa: E402
from trajkit.measure.cotracker.weights import load_cotracker, load_state_strictly, read_state  # noqa: E402
from trajkit.measure.cotracker.windows import window_starts  # noqa: E402

TOL = 1e-4


@pytest.fixture(scope="module")
def offline_net():
    return fill_network(CoTrackerThreeOffline(model_resolution=MODEL_RESOLUTION))


@pytest.fixture(scope="module")
def online_net():
    return fill_network(CoTrackerThreeOnline(model_resolution=MODEL_RESOLUTION))


def _fixture(variant: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"cotracker3_{variant}.npz") as data:
        return {k: data[k] for k in data.files}


def _visible_agrees(mine: np.ndarray, theirs: np.ndarray, score: np.ndarray, threshold: float) -> None:
    """Equal booleans except where the score is within TOL of the threshold (rounding may tip those)."""
    decided = np.abs(score - threshold) > TOL
    assert np.array_equal(mine[decided], theirs[decided])


def test_layout_equals_the_original():
    layout = json.loads((FIXTURES / "cotracker3_keys.json").read_text())
    for variant, net in (("offline", CoTrackerThreeOffline()), ("online", CoTrackerThreeOnline())):
        mine = {k: list(v.shape) for k, v in net.state_dict().items()}
        assert list(mine.items()) == list(layout[variant].items())
        for row, values in layout[f"{variant}_time_emb_rows"].items():
            np.testing.assert_allclose(net.time_emb[0, int(row), ::37].numpy(), values, atol=1e-6)
    assert len(layout["offline"]) == 188
    assert layout["offline"]["time_emb"] == [1, 60, 1110] and layout["online"]["time_emb"] == [1, 16, 1110]


def test_offline_matches_the_original(offline_net):
    ref = _fixture("offline")
    steps = []
    res = cotracker_result(ref["video"], ref["queries"], variant="offline", model=offline_net,
                           progress=lambda done, total: steps.append((done, total)))
    assert tuple(ref["model_resolution"]) == MODEL_RESOLUTION
    assert res.xy.dtype == np.float32 and res.xy.shape == (10, 8, 2) and res.visible.dtype == bool
    assert np.abs(res.xy - (ref["tracks"] + 0.5)).max() <= TOL
    assert np.abs(res.visibility - ref["visibility"]).max() <= TOL
    frames = np.arange(len(ref["video"]))[:, None]
    before = frames < ref["queries"][None, :, 0]
    confidence = np.where(before, ref["confidence_backward"], ref["confidence_forward"])
    assert np.abs(res.confidence - confidence).max() <= TOL
    _visible_agrees(res.visible, ref["visible"], res.visibility, OFFLINE_VISIBLE)
    assert 0 < ref["visible"].mean() < 1 and before.any()
    # Each query sits exactly at its own point on its own frame (trajkit pixels), visible.
    t = ref["queries"][:, 0].astype(int)
    n = np.arange(len(t))
    np.testing.assert_allclose(res.xy[t, n], ref["queries"][:, 1:], atol=TOL)
    assert res.visible[t, n].all()
    assert steps == [(1, 3), (2, 3), (3, 3)]


def test_online_matches_the_original(online_net):
    ref = _fixture("online")
    steps = []
    res = cotracker_result(ref["video"], ref["queries"], variant="online", model=online_net,
                           progress=lambda done, total: steps.append((done, total)))
    frames = np.arange(len(ref["video"]))[:, None]
    before = frames < ref["queries"][None, :, 0]
    assert np.abs(res.xy - (ref["tracks"] + 0.5))[~before].max() <= TOL
    assert np.abs(res.visibility - ref["visibility"]).max() <= TOL
    assert np.abs(res.confidence - ref["confidence"]).max() <= TOL
    score = res.visibility * res.confidence
    _visible_agrees(res.visible[~before], ref["visible"][~before], score[~before], ONLINE_VISIBLE)
    assert 0 < ref["visible"][~before].mean() < 1
    # Before its frame a query is held at its point and not visible (the online predictor has no backward pass).
    held = np.broadcast_to(ref["queries"][None, :, 1:], res.xy.shape)
    np.testing.assert_allclose(res.xy[before], held[before], atol=1e-5)
    assert not res.visible[before].any()
    assert steps == [(1, 2), (2, 2)] and int(ref["windows"]) == 2


def test_track_cotracker_returns_the_result_arrays(offline_net):
    ref = _fixture("offline")
    xy, visible = track_cotracker(ref["video"][:3], ref["queries"][:2], model=offline_net)
    assert xy.shape == (3, 2, 2) and xy.dtype == np.float32 and visible.shape == (3, 2) and visible.dtype == bool


@pytest.mark.parametrize(("frames", "starts"), [(2, [0]), (16, [0]), (17, [0, 8]), (24, [0, 8]), (27, [0, 8, 16]),
                                                (81, [0, 8, 16, 24, 32, 40, 48, 56, 64, 72])])
def test_online_windows(frames, starts):
    assert window_starts(frames, 16) == starts


# --- checkpoints -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("variant", "wrapped"), [("offline", False), ("online", True)])
def test_checkpoint_in_released_layout_loads(tmp_path, variant, wrapped):
    net = CoTrackerThreeOffline() if variant == "offline" else CoTrackerThreeOnline()
    fill_network(net)
    state = net.state_dict()
    path = tmp_path / f"scaled_{variant}.pth"
    torch.save({"model": state} if wrapped else state, path)
    loaded = load_cotracker(variant, checkpoint=path)
    assert type(loaded) is type(net) and not loaded.training
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_checkpoint_layout_mismatch_is_named(online_net):
    state = dict(online_net.state_dict())
    missing = {k: v for k, v in state.items() if not k.startswith("corr_mlp.")}
    with pytest.raises(TrajkitError, match=r"4 missing \(e\.g\. corr_mlp\.fc1\.bias"):
        load_state_strictly(CoTrackerThreeOnline(), missing, "x.pth")
    extra = {**state, "head.weight": torch.zeros(1)}
    with pytest.raises(TrajkitError, match=r"1 unexpected \(e\.g\. head\.weight\)"):
        load_state_strictly(CoTrackerThreeOnline(), extra, "x.pth")
    # The offline frame table (60 rows) does not fit the online network (16 rows).
    reshaped = {**state, "time_emb": torch.zeros(1, 60, 1110)}
    with pytest.raises(TrajkitError, match=r"1 with other shapes \(e\.g\. time_emb"):
        load_state_strictly(CoTrackerThreeOnline(), reshaped, "x.pth")


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pth"
    torch.save({"time_emb": torch.zeros(1), "payload": _RunsCode(marker)}, path)
    with pytest.raises(TrajkitError, match=r"evil\.pth"):
        read_state(path)
    assert not marker.exists()


def test_not_a_state_dict_is_refused(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(TrajkitError, match="state dict"):
        read_state(path)


def _empty_hub_cache(monkeypatch, tmp_path) -> Path:
    import huggingface_hub.constants as hf_constants

    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_missing_checkpoint_names_the_command(monkeypatch, tmp_path):
    _empty_hub_cache(monkeypatch, tmp_path)
    video = np.zeros((4, 16, 16, 3), np.uint8)
    with pytest.raises(TrajkitError, match=r"hf download facebook/cotracker3 scaled_offline\.pth"):
        track_cotracker(video, np.array([[0, 8.0, 8.0]]))
    with pytest.raises(TrajkitError, match=r"hf download facebook/cotracker3 scaled_online\.pth"):
        track_cotracker(video, np.array([[0, 8.0, 8.0]]), variant="online")
    with pytest.raises(TrajkitError, match="is not a file"):
        track_cotracker(video, np.array([[0, 8.0, 8.0]]), checkpoint=tmp_path / "nope.pth")


def test_checkpoint_is_found_in_the_hub_cache(monkeypatch, tmp_path, online_net):
    cache = _empty_hub_cache(monkeypatch, tmp_path)
    repo = cache / "models--facebook--cotracker3"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    state = CoTrackerThreeOnline().state_dict()
    torch.save(state, repo / "snapshots" / commit / "scaled_online.pth")
    net = load_cotracker("online")
    assert torch.equal(net.time_emb, state["time_emb"])


# --- bad input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("video", "queries", "options", "message"), [
    (np.zeros((4, 16, 16, 3), np.float32), [[0, 8, 8]], {}, "uint8"),
    (np.zeros((4, 16, 16), np.uint8), [[0, 8, 8]], {}, r"shape \(T, H, W, 3\)"),
    (np.zeros((4, 16, 16, 3), np.uint8), [[0, 17, 8]], {}, "outside the 16×16 frame"),
    (np.zeros((4, 16, 16, 3), np.uint8), [[0, 8, -0.5]], {}, "outside the 16×16 frame"),
    (np.zeros((4, 16, 16, 3), np.uint8), [[4, 8, 8]], {}, r"starts at frame 4, but the video has frames 0…3"),
    (np.zeros((4, 16, 16, 3), np.uint8), [[-1, 8, 8]], {}, "starts at frame -1"),
    (np.zeros((4, 16, 16, 3), np.uint8), [[0, np.nan, 8]], {}, "NaN"),
    (np.zeros((4, 16, 16, 3), np.uint8), [[0, 8, 8]], {"variant": "dense"}, "unknown variant 'dense'"),
    (np.zeros((4, 16, 16, 3), np.uint8), [[0, 8, 8]], {"device": "gpu0"}, "device"),
])
def test_bad_input_is_named(video, queries, options, message):
    with pytest.raises(TrajkitError, match=message):
        track_cotracker(video, np.asarray(queries, dtype=np.float64), **options)


def test_model_of_the_other_variant_is_refused(online_net):
    video = np.zeros((4, 16, 16, 3), np.uint8)
    with pytest.raises(TrajkitError, match="the model is the online network"):
        track_cotracker(video, np.array([[0, 8.0, 8.0]]), variant="offline", model=online_net)
    with pytest.raises(TrajkitError, match="CoTrackerThree network"):
        track_cotracker(video, np.array([[0, 8.0, 8.0]]), model=torch.nn.Linear(2, 2))


def test_import_does_not_load_torch():
    code = "import sys, trajkit.measure.cotracker; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
