"""trajkit's CLaTr against GenDoP's ORIGINAL code, run outside the repository on small random weights.

Procedure (reproducible; the harness is ``fixtures/make_clatr_reference.py``, whose docstring has the commands):
GenDoP at commit 26099d0b5bdb5307701fd81cb41ab2ff0acea0c8 (``evaluate/CLaTr`` and ``evaluate/eval``) was
exported to /tmp/clatr_orig and run in a separate venv (/tmp/clatr_env: torch 2.13.0+cpu, lightning 2.6.6,
torchmetrics 1.9.0, evo 1.38.1, einops 0.8.2, torchtyping 0.1.5, numpy 2.4.6). The harness

1. writes 20 random smooth OpenGL camera paths as ``*_transforms_ref.json`` and 20 generated ones as
   ``*_transforms_pred.json``, read back through the original ``TrajectoryEvalDataset`` (features);
2. builds the original ``CLaTr`` (``ACTORStyleEncoder`` × 2, ``ACTORStyleDecoder``) at the released layout but
   small sizes (latent 32, FF 64, 2 layers, 4 heads, text width 512), noises its weights, trains one step with a
   Lightning ``Trainer`` and saves ``clatr_tiny.ckpt`` with ``trainer.save_checkpoint`` (full Lightning file,
   optimizer state included);
3. runs the original ``predict_step`` via ``Trainer.predict(ckpt_path=clatr_tiny.ckpt)`` on a fresh model, one
   batch, ``torch.manual_seed(1234)`` at the batch start, with ``sample_mean`` False ("random") and True
   ("mean"): latents, decoded features, matrices;
4. runs the original ``CLaTrScore``, ``ManifoldMetrics(distance="euclidean")``, ``FrechetCLaTrDistance`` and
   ``CaptionMetrics(189)`` as ``eval_only.py`` wires them, on those latents and on two synthetic latent sets
   (24 × 16, 40 × 256).

``clatr_reference.npz`` holds the inputs and the original outputs. Measured max |trajkit − original|: features
4e-16, μ / log σ² 7e-7, latents (random draws included) 1e-6, decoded features 1e-6, matrices 6e-5 on values up
to 204 (float32 cumulative sums; relative 3e-7), CLaTr score 2e-7, FCD 6e-6, PRDC exact, caption F-score 1e-7.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trajkit.evaluate.clatr.checkpoint import load_clatr
from trajkit.evaluate.clatr.evaluation import extract, metrics_from_extraction
from trajkit.evaluate.clatr.features import features_to_matrices, trajectory_features
from trajkit.evaluate.clatr.metrics import clatr_score, fcd, prdc
from trajkit.evaluate.clatr.text import TextFeatures

FIXTURES = Path(__file__).parent / "fixtures"
SEED = 1234
TOL = 1e-4


@pytest.fixture(scope="module")
def ref_data():
    return np.load(FIXTURES / "clatr_reference.npz")


@pytest.fixture(scope="module")
def model():
    return load_clatr(FIXTURES / "clatr_tiny.ckpt")


def homogeneous(c2w34: np.ndarray) -> np.ndarray:
    out = np.tile(np.eye(4), (*c2w34.shape[:2], 1, 1))
    out[..., :3, :] = c2w34
    return out


def inputs(ref_data):
    n = len(ref_data["text_lengths"])
    seq = torch.zeros(n, 77, 512)
    seq[:, :ref_data["text_seq"].shape[1]] = torch.from_numpy(ref_data["text_seq"].astype(np.float32))
    mask = torch.arange(77)[None] < torch.from_numpy(ref_data["text_lengths"])[:, None]
    text = TextFeatures(seq=seq, mask=mask, token=torch.zeros(n, 512))
    return text, homogeneous(ref_data["ref_c2w"]), homogeneous(ref_data["pred_c2w"])


def close(ours: np.ndarray, theirs: np.ndarray, rel: bool = False) -> None:
    scale = np.maximum(1.0, np.abs(theirs)) if rel else 1.0
    assert ours.shape == theirs.shape
    assert np.max(np.abs(ours - theirs) / scale) <= TOL


def test_features_and_their_inverse_match_the_original(ref_data):
    _, ref, pred = inputs(ref_data)
    close(trajectory_features(ref)[:6], ref_data["ref_features"])
    close(trajectory_features(pred)[:6], ref_data["pred_features"])
    close(features_to_matrices(ref_data["ref_features"][:4]), ref_data["mean_ref_matrices"])
    close(features_to_matrices(ref_data["mean_m_pred_trajectories"][:4]), ref_data["mean_m_pred_matrices"], rel=True)


def test_lightning_checkpoint_loads_and_encoders_match(ref_data, model):
    assert (model.config.latent, model.config.ff, model.config.layers) == (32, 64, 2)
    text, ref, pred = inputs(ref_data)
    with torch.no_grad():
        for name, (mu, logvar) in (("text", model.encode_text(text.seq, text.mask)),
                                   ("ref", model.encode_trajectory(torch.from_numpy(trajectory_features(ref)))),
                                   ("pred", model.encode_trajectory(torch.from_numpy(trajectory_features(pred))))):
            close(mu.numpy(), ref_data[f"{name}_mu"])
            close(logvar.numpy(), ref_data[f"{name}_logvar"])


@pytest.mark.parametrize(("tag", "sample_mean"), [("random", False), ("mean", True)])
def test_extraction_and_metrics_match_the_original(ref_data, model, tag, sample_mean):
    text, ref, pred = inputs(ref_data)
    e = extract(model, text, ref, pred, sample_mean=sample_mean, seed=SEED)
    for ours, theirs in (("t", "t"), ("m_ref", "m_ref"), ("m_pred", "m_pred")):
        close(getattr(e, f"{ours}_latents"), ref_data[f"{tag}_{theirs}_latents"])
        n = len(ref_data[f"{tag}_{theirs}_trajectories"])
        close(getattr(e, f"{ours}_features")[:n], ref_data[f"{tag}_{theirs}_trajectories"])
    metrics = metrics_from_extraction(e)
    for key in ("clatr_score", "fcd", "precision", "recall", "density", "coverage", "caption_precision",
                "caption_recall", "caption_fscore"):
        assert metrics[key] == pytest.approx(float(ref_data[f"metric_{tag}_{key}"]), abs=TOL), key


def test_random_draws_depend_on_the_seed(ref_data, model):
    text, ref, pred = inputs(ref_data)
    a = extract(model, text, ref, pred, seed=SEED + 1)
    assert np.abs(a.t_latents - ref_data["random_t_latents"]).max() > 1e-3


@pytest.mark.parametrize("name", ["small", "wide"])
def test_latent_metrics_match_the_original_on_synthetic_latents(ref_data, name):
    real, fake, text = (ref_data[f"{name}_{k}"].astype(np.float32) for k in ("ref", "pred", "text"))
    ours = {"clatr_score": clatr_score(fake, text), "fcd": fcd(real, fake), **prdc(real, fake)}
    for key, value in ours.items():
        assert value == pytest.approx(float(ref_data[f"metric_{name}_{key}"]), abs=TOL), key
