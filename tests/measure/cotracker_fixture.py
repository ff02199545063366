"""How the CoTracker3 fixtures in ``fixtures/`` were made (run by hand, never by the tests).

The tests import only the deterministic pieces of this file (:func:`fill_value`, :func:`fill_network`,
:func:`fixture_video`, the settings); :func:`main` alone imports the original implementation, from a checkout given
on the command line, and writes

* ``fixtures/cotracker3_keys.json``: key → shape of the original ``CoTrackerThreeOffline(window_len=60)`` and
  ``CoTrackerThreeOnline(window_len=16)`` state dicts (the released checkpoints' layout), and rows of their default
  ``time_emb`` tables;
* ``fixtures/cotracker3_offline.npz`` / ``cotracker3_online.npz``: the inputs, the original predictors' outputs and
  the probabilities behind their visibility, for networks of the released layout at a small model resolution with
  every tensor filled by :func:`fill_value`.

Procedure (facebookresearch/co-tracker at commit ``82e02e8029753ad4ef13cf06be7f4fc5facdda4d``)::

    git --git-dir=<mirror of facebookresearch/co-tracker> archive 82e02e8 cotracker | tar -x -C /tmp/cotracker_ref
    .venv/bin/python tests/measure/cotracker_fixture.py /tmp/cotracker_ref

Offline: ``CoTrackerPredictor(checkpoint=None, offline=True, window_len=60)`` with its network's
``model_resolution`` set to :data:`MODEL_RESOLUTION`, called with ``queries`` (so its 6×6 support grid is added) and
``backward_tracking=True``. Online: ``CoTrackerOnlinePredictor(checkpoint=None, window_len=16)`` with the same
resolution, fed as its ``online_demo.py`` does (a first call with ``is_first_step=True`` that only stores the
queries, then chunks ``video[max(0, i - 16):i]`` at ``i = 16, 24, …`` and the remainder). Query points go in as
trajkit canvas points minus 0.5 (CoTracker's pixel centres are integers).
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import numpy as np
import torch

FIXTURES = Path(__file__).resolve().parent / "fixtures"
COMMIT = "82e02e8029753ad4ef13cf06be7f4fc5facdda4d"
#: (H', W') the small test networks resize frames to (the released networks use 384×512; the layout is the same).
MODEL_RESOLUTION = (64, 96)
#: (frames, height, width) of the fixture clips.
OFFLINE_CLIP = (10, 48, 72)
ONLINE_CLIP = (20, 48, 72)
#: Queries (t, x, y) in trajkit canvas pixels.
OFFLINE_QUERIES = np.array([[0, 10.5, 8.5], [0, 36.0, 24.0], [0, 60.25, 40.75], [3, 20.5, 30.5],
                            [5, 50.0, 12.0], [8, 30.5, 40.5], [9, 66.0, 20.0], [7, 0.5, 47.5]])
ONLINE_QUERIES = np.array([[0, 10.5, 8.5], [0, 36.0, 24.0], [4, 60.25, 40.75], [10, 20.5, 30.5],
                           [15, 50.0, 12.0], [16, 30.5, 40.5], [17, 66.0, 20.0], [19, 0.5, 47.5]])


def fill_value(key: str, shape: tuple[int, ...]) -> torch.Tensor:
    """Deterministic stand-in weights: ``N(0, 1)`` from a generator seeded with ``crc32(key)``, scaled per kind.

    ``*.bias`` → × 0.02; ``norm_context.weight`` (LayerNorm) → 1 + 0.1·z; ``virual_tracks`` and ``time_emb`` → × 0.5;
    ``flow_head.weight`` → × 0.05 / √fan_in; every other weight → × 1 / √fan_in (fan_in = numel / shape[0]).
    The small flow head keeps the random network's updates tame (points move by a few feature pixels): with × 0.2
    the original itself moves by 0.05 px when one bias changes by 1e-6 over three online windows (27 frames), which
    would drown a 1e-4 comparison in float32 rounding.
    """
    z = torch.randn(shape, generator=torch.Generator().manual_seed(zlib.crc32(key.encode())))
    fan_in = max(1, int(np.prod(shape[1:])))
    if key.endswith(".bias"):
        return z * 0.02
    if key.endswith("norm_context.weight"):
        return 1.0 + 0.1 * z
    if key.endswith("virual_tracks") or key == "time_emb":
        return z * 0.5
    if key.endswith("flow_head.weight"):
        return z * (0.05 / fan_in**0.5)
    return z / fan_in**0.5


def fill_network(net: torch.nn.Module) -> torch.nn.Module:
    """Every tensor of ``net.state_dict()`` (sorted keys) replaced by :func:`fill_value`; ``net`` in eval mode."""
    state = net.state_dict()
    net.load_state_dict({k: fill_value(k, tuple(state[k].shape)) for k in sorted(state)})
    return net.eval()


def fixture_video(frames: int, height: int, width: int, seed: int = 7) -> np.ndarray:
    """A smooth random texture (sum of 24 random sinusoids per channel) drifting by (1.3, 0.6) px per frame: uint8
    ``(T, H, W, 3)``."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.05, 0.35, size=(3, 24, 2)) * rng.choice([-1, 1], size=(3, 24, 2))
    phase = rng.uniform(0, 2 * np.pi, size=(3, 24))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        x, y = xs - 1.3 * t, ys - 0.6 * t
        for c in range(3):
            val = sum(np.sin(freq[c, k, 0] * x + freq[c, k, 1] * y + phase[c, k]) for k in range(24))
            out[t, :, :, c] = np.clip(128 + 16 * val, 0, 255).round().astype(np.uint8)
    return out


def _capture(module: torch.nn.Module, name: str, log: list) -> None:
    """Record every return value of ``module.<name>`` in ``log``."""
    original = getattr(module, name)

    def wrapped(*args, **kwargs):
        out = original(*args, **kwargs)
        log.append(out)
        return out

    setattr(module, name, wrapped)


def _offline(ref_root: Path) -> dict[str, np.ndarray]:
    from cotracker.predictor import CoTrackerPredictor

    predictor = CoTrackerPredictor(checkpoint=None, offline=True, window_len=60)
    predictor.model.model_resolution = MODEL_RESOLUTION
    predictor.interp_shape = MODEL_RESOLUTION
    fill_network(predictor.model)
    video = fixture_video(*OFFLINE_CLIP)
    queries = OFFLINE_QUERIES
    calls: list = []
    merged: list = []
    _capture(predictor.model, "forward", calls)
    _capture(predictor, "_compute_backward_tracks", merged)
    v = torch.from_numpy(video).permute(0, 3, 1, 2)[None].float()
    q = torch.from_numpy(np.concatenate([queries[:, :1], queries[:, 1:] - 0.5], axis=1).astype(np.float32))[None]
    tracks, visible = predictor(v, queries=q, backward_tracking=True)
    n = len(queries)
    fwd, bwd = calls
    return {"video": video, "queries": queries, "tracks": tracks[0].numpy(), "visible": visible[0].numpy(),
            "visibility": merged[0][1][0, :, :n].numpy(),
            "confidence_forward": fwd[2][0, :, :n].numpy(), "confidence_backward": bwd[2][0, :, :n].flip(0).numpy(),
            "model_resolution": np.array(MODEL_RESOLUTION)}


def _online(ref_root: Path) -> dict[str, np.ndarray]:
    from cotracker.predictor import CoTrackerOnlinePredictor

    predictor = CoTrackerOnlinePredictor(checkpoint=None, window_len=16)
    predictor.model.model_resolution = MODEL_RESOLUTION
    predictor.interp_shape = MODEL_RESOLUTION
    fill_network(predictor.model)
    video = fixture_video(*ONLINE_CLIP)
    queries = ONLINE_QUERIES
    calls: list = []
    _capture(predictor.model, "forward", calls)
    q = torch.from_numpy(np.concatenate([queries[:, :1], queries[:, 1:] - 0.5], axis=1).astype(np.float32))[None]
    frames = torch.from_numpy(video).permute(0, 3, 1, 2)[None].float()
    step = predictor.step
    predictor(frames[:, :step], is_first_step=True, queries=q)
    last = len(video) - 1
    for i in range(step * 2, last + 1, step):  # online_demo.py: a window every `step` frames from frame 2·step
        tracks, visible = predictor(frames[:, i - 2 * step:i], queries=q)
    rest = frames[:, -(last % step) - step - 1:]  # online_demo.py's final call
    tracks, visible = predictor(rest[:, -2 * step:], queries=q)
    windows = len(calls)
    return {"video": video, "queries": queries, "tracks": tracks[0].numpy(), "visible": visible[0].numpy(),
            "visibility": calls[-1][1][0].numpy(), "confidence": calls[-1][2][0].numpy(),
            "windows": np.array(windows), "model_resolution": np.array(MODEL_RESOLUTION)}


def _layout() -> dict:
    from cotracker.models.build_cotracker import build_cotracker

    out = {"commit": COMMIT}
    for variant, offline, window in (("offline", True, 60), ("online", False, 16)):
        net = build_cotracker(None, offline=offline, window_len=window)
        out[variant] = {k: list(v.shape) for k, v in net.state_dict().items()}
        rows = [0, 1, window // 2, window - 1]
        out[f"{variant}_time_emb_rows"] = {str(r): net.time_emb[0, r, ::37].tolist() for r in rows}
    return out


def main(ref_root: str) -> None:
    sys.path.insert(0, str(Path(ref_root).resolve()))
    torch.set_grad_enabled(False)
    FIXTURES.mkdir(exist_ok=True)
    (FIXTURES / "cotracker3_keys.json").write_text(json.dumps(_layout(), indent=0) + "\n")
    np.savez_compressed(FIXTURES / "cotracker3_offline.npz", **_offline(Path(ref_root)))
    np.savez_compressed(FIXTURES / "cotracker3_online.npz", **_online(Path(ref_root)))


if __name__ == "__main__":
    main(sys.argv[1])
