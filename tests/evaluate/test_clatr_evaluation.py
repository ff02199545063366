"""(prompts, generated paths, reference paths) → GenDoP's four metrics, end to end on a tiny random CLaTr."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trajkit.core.camera import CameraPath, intrinsics_from_fov
from trajkit.core.conventions import opencv_to_opengl
from trajkit.core.errors import ValidationError
from trajkit.core.rotations import axis_angle_to_matrix
from trajkit.evaluate.clatr.evaluation import evaluate_director, extract
from trajkit.evaluate.clatr.model import CLaTr, CLaTrConfig
from trajkit.evaluate.clatr.text import TextFeatures

N, T = 20, 120


def camera(seed: int) -> CameraPath:
    """A smooth random move in OpenCV axes: constant turn and speed, random start."""
    rng = np.random.default_rng(seed)
    turn, step = rng.normal(0, 0.01, 3), rng.normal(0, 0.02, 3)
    c2w = np.tile(np.eye(4), (T, 1, 1))
    c2w[0, :3, :3] = axis_angle_to_matrix(rng.normal(0, 1, 3))
    for i in range(1, T):
        c2w[i, :3, :3] = c2w[i - 1, :3, :3] @ axis_angle_to_matrix(turn)
        c2w[i, :3, 3] = c2w[i - 1, :3, 3] + c2w[i - 1, :3, :3] @ step
    return CameraPath(c2w=c2w, K=intrinsics_from_fov((512, 288), 60.0), size=(512, 288), fps=30.0)


def stub_text(prompts: list[str]) -> TextFeatures:
    """Deterministic stand-in for CLIP: 512-wide token features seeded by each prompt's length."""
    seq, mask = torch.zeros(len(prompts), 77, 512), torch.zeros(len(prompts), 77, dtype=torch.bool)
    for i, p in enumerate(prompts):
        g = torch.Generator().manual_seed(len(p))
        seq[i, :5] = torch.randn(5, 512, generator=g)
        mask[i, :5] = True
    return TextFeatures(seq=seq, mask=mask, token=seq[:, 4])


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return CLaTr(CLaTrConfig(latent=16, ff=32, layers=1, heads=2)).eval()


@pytest.fixture(scope="module")
def paths():
    return [camera(i) for i in range(N)]


PROMPTS = [f"the camera moves {'slowly ' * i}forward" for i in range(N)]


def test_generated_equal_to_references_scores_perfectly(model, paths):
    got = evaluate_director(PROMPTS, paths, paths, model=model, text_encoder=stub_text, sample_mean=True)
    assert got["fcd"] == pytest.approx(0.0, abs=1e-6)
    assert got["coverage"] == 1.0 and got["precision"] == 1.0
    assert got["caption_fscore"] == 1.0  # identical reconstructions tag identically
    assert 0.0 <= got["clatr_score"] <= 100.0
    assert got["samples"] == N
    raw = evaluate_director(PROMPTS, paths, paths, model=model, text_encoder=stub_text, sample_mean=True,
                            caption_source="raw")
    assert raw["caption_fscore"] == 1.0


def test_other_paths_score_worse_than_the_references_themselves(model, paths):
    others = [camera(1000 + i) for i in range(N)]
    same = evaluate_director(PROMPTS, paths, paths, model=model, text_encoder=stub_text, sample_mean=True)
    other = evaluate_director(PROMPTS, others, paths, model=model, text_encoder=stub_text, sample_mean=True)
    assert other["fcd"] > same["fcd"] + 1e-3
    assert other["caption_fscore"] < 1.0


def test_seeded_draws_repeat_and_camera_paths_equal_opengl_arrays(model, paths):
    text = stub_text(PROMPTS)
    gl = np.stack([opencv_to_opengl(p.c2w) for p in paths])
    a = extract(model, text, paths, paths, seed=5, batch_size=7)
    b = extract(model, text, gl, gl, seed=5, batch_size=7)
    c = extract(model, text, paths, paths, seed=6, batch_size=7)
    assert np.array_equal(a.m_pred_latents, b.m_pred_latents)
    assert not np.allclose(a.m_pred_latents, c.m_pred_latents)
    # references and generated paths are the same, but their latents are independent draws
    assert not np.allclose(a.m_ref_latents, a.m_pred_latents)
    mean = extract(model, text, paths, paths, sample_mean=True)
    assert np.array_equal(mean.m_ref_latents, mean.m_pred_latents)


def test_bad_inputs_are_named(model, paths):
    text = stub_text(PROMPTS)
    with pytest.raises(ValidationError, match="one per prompt"):
        extract(model, text, paths, paths[:5])
    short = [p.resample(60) for p in paths]
    with pytest.raises(ValidationError, match=r"120 frames per path \(resample"):
        extract(model, text, short, short)
    narrow = TextFeatures(seq=text.seq[..., :384], mask=text.mask, token=text.token[..., :384])
    with pytest.raises(ValidationError, match=r"width 512 .*found width 384"):
        extract(model, narrow, paths, paths)
    with pytest.raises(ValidationError, match="caption_source"):
        evaluate_director(PROMPTS, paths, paths, model=model, text_encoder=stub_text, caption_source="tags")
