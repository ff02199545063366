"""CLaTr training losses against GenDoP's ORIGINAL ``compute_loss`` (fixture from
``fixtures/make_clatr_loss_reference.py``, run in /tmp/clatr_env on GenDoP 26099d0) and on cases with known values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trajkit.core.errors import TrajkitError
from trajkit.evaluate.clatr.checkpoint import load_clatr
from trajkit.evaluate.clatr.losses import clatr_loss, contrastive_loss, kl_divergence, latent_loss

FIXTURES = Path(__file__).parent / "fixtures"
TERMS = ("recons", "kl", "latent", "contrastive")


@pytest.fixture(scope="module")
def ref():
    return np.load(FIXTURES / "clatr_loss_reference.npz")


def batch(ref):
    b = len(ref["features"])
    seq = torch.zeros(b, 77, 512)
    seq[:, :ref["text_seq"].shape[1]] = torch.from_numpy(ref["text_seq"].astype(np.float32))
    mask = torch.arange(77)[None] < torch.from_numpy(ref["text_lengths"])[:, None]
    return torch.from_numpy(ref["features"]), seq, mask, torch.from_numpy(ref["token"])


def check(losses, ref, case):
    for term in TERMS:
        assert abs(float(getattr(losses, term).detach()) - float(ref[f"{case}_{term}"])) <= 1e-5, term
    assert abs(float(losses.total.detach()) - float(ref[f"{case}_loss"])) <= 1e-5


def test_eval_mode_terms_match_the_original(ref):
    model = load_clatr(FIXTURES / "clatr_tiny.ckpt")
    losses = clatr_loss(model, *batch(ref), generator=torch.Generator().manual_seed(int(ref["seed"])))
    check(losses, ref, "eval")


def test_train_mode_terms_with_dropout_match_the_original(ref):
    model = load_clatr(FIXTURES / "clatr_tiny.ckpt").train()
    with torch.random.fork_rng():
        torch.manual_seed(int(ref["seed"]))
        losses = clatr_loss(model, *batch(ref))
    check(losses, ref, "train")


def test_one_adamw_step_matches_the_original(ref):
    model = load_clatr(FIXTURES / "clatr_tiny.ckpt")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    clatr_loss(model, *batch(ref), generator=torch.Generator().manual_seed(int(ref["seed"]))).total.backward()
    opt.step()
    with torch.no_grad():
        losses = clatr_loss(model, *batch(ref), generator=torch.Generator().manual_seed(int(ref["seed"])))
    check(losses, ref, "step")


def test_identical_latents_and_distributions_give_zero():
    z = torch.randn(4, 8)
    assert float(latent_loss(z, z.clone())) == 0.0
    assert float(kl_divergence((z, z), (z.clone(), z.clone()))) == 0.0
    assert float(latent_loss(z, z + 0.5)) == pytest.approx(0.125)  # SmoothL1 of 0.5 = 0.5·0.5²


def test_contrastive_masks_a_duplicated_caption():
    # Latents: text i and trajectory i agree, but trajectory 1 is as close to text 0 as trajectory 0 is.
    z_text = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    z_traj = z_text.clone()
    tokens = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, -1.0, 0.0]])  # caption 1 = caption 0
    t = 0.1
    # Unmasked: row 0 has logits (10, 10, 0) → −log(e^10 / (2e^10 + 1)) ≈ log 2; masking the duplicate leaves
    # logits (10, −inf, 0) → log(1 + e^−10). Rows 0 and 1 (and their transposes) behave alike; row 2 sees
    # (0, 0, 10) → log(1 + 2e^−10) in both cases.
    masked = float(contrastive_loss(z_text, z_traj, tokens, temperature=t))
    plain = float(contrastive_loss(z_text, z_traj, None, temperature=t))
    e = np.exp(-10.0)
    expect_plain = (2 * np.log(2 + e) + np.log(1 + 2 * e)) / 3
    expect_masked = (2 * np.log(1 + e) + np.log(1 + 2 * e)) / 3
    assert plain == pytest.approx(expect_plain, abs=1e-6)
    assert masked == pytest.approx(expect_masked, abs=1e-6)
    assert masked > 0.0


def test_bad_shapes_are_trajkit_errors(ref):
    model = load_clatr(FIXTURES / "clatr_tiny.ckpt")
    features, seq, mask, tokens = batch(ref)
    with pytest.raises(TrajkitError, match="features"):
        clatr_loss(model, features[..., :6], seq, mask, tokens)
    with pytest.raises(TrajkitError, match="tokens"):
        clatr_loss(model, features, seq, mask, tokens[:3])
