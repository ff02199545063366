"""GenDoP's RGB / depth preprocessing and a text + RGBD director driven end to end (tiny, random)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from gendop_reference import (
    gendop_state_dict,
    tiny_clip_text_encoder,
    tiny_clip_vision_encoder,
    write_gendop_checkpoint,
    write_tiny_clip_tokenizer,
)
from PIL import Image
from typer.testing import CliRunner

from trajkit.cli.main import app
from trajkit.core.errors import TrajkitError
from trajkit.director.conditioning import CLIP_MEAN, CLIP_STD, depth_pixels, rgb_pixels
from trajkit.director.pipeline import DirectorPipeline
from trajkit.director.sampling import SamplingOptions


@pytest.mark.parametrize(("case", "pad"), [("case1", 152), ("case2", 112)])
def test_rgb_is_padded_centrally_and_normalised_before_resizing(data_dir, case, pad):
    rgb = np.asarray(Image.open(data_dir / "gendop" / "text_rgbd" / f"{case}_rgb.png").convert("RGB"))
    full = rgb_pixels(rgb, size=512)[0].numpy()  # no resize: the 512 × 512 canvas itself
    padded = -np.array(CLIP_MEAN, np.float32) / np.array(CLIP_STD, np.float32)
    np.testing.assert_allclose(full[:, :pad], np.broadcast_to(padded[:, None, None], (3, pad, 512)), atol=1e-6)
    np.testing.assert_allclose(full[:, 512 - pad:], np.broadcast_to(padded[:, None, None], (3, pad, 512)), atol=1e-6)
    first_row = (rgb[0].astype(np.float32) / 255 - CLIP_MEAN) / CLIP_STD
    np.testing.assert_allclose(full[:, pad], first_row.T, atol=1e-5)
    small = rgb_pixels(rgb)
    assert small.shape == (1, 3, 224, 224) and small[0, :, 0].max() < 0  # the padding stays negative


def test_depth_is_raw_and_three_channel(data_dir):
    depth = np.load(data_dir / "gendop" / "text_rgbd" / "case3_depth.npy")
    assert depth.shape == (288, 512)
    full = depth_pixels(depth, size=512)[0].numpy()
    assert full.shape == (3, 512, 512) and (full[:, :112] == 0).all()
    np.testing.assert_array_equal(full[0, 112:400], depth)  # not normalised
    assert depth_pixels(depth).shape == (1, 3, 224, 224)
    with pytest.raises(TrajkitError, match="finite"):
        depth_pixels(np.full((4, 4), np.nan, np.float32))


def test_text_rgbd_checkpoint_generates_from_an_image_and_depth(tmp_path, data_dir):
    state = gendop_state_dict(hidden=32, heads=4, layers=1, ffn=64, positions=400, cond_mode="depth+image+text",
                              text_width=32, image_width=40, dtype=torch.float32)
    for name, seed in (("image_encoder", 1), ("depth_encoder", 2)):
        state |= {f"{name}.vision_model.{k}": v for k, v in tiny_clip_vision_encoder(seed).state_dict().items()}
    path = write_gendop_checkpoint(tmp_path / "text_rgbd.safetensors", state,
                                   text_encoder_state=tiny_clip_text_encoder(hidden_size=32).state_dict())
    tokenizer = write_tiny_clip_tokenizer(tmp_path / "tokenizer")
    pipe = DirectorPipeline.load(path, tokenizer=tokenizer)
    source = data_dir / "gendop" / "text_rgbd"
    rgb = np.asarray(Image.open(source / "case1_rgb.png").convert("RGB"))
    depth = np.load(source / "case1_depth.npy")
    streams = pipe.encode(["go forward"], rgb, depth)
    assert streams["image"].shape == (1, 5, 40) and streams["depth"].shape == (1, 5, 40)
    greedy = SamplingOptions(mode="greedy")
    a = pipe.tokens(["go forward"], image=rgb, depth=depth, options=greedy)
    b = pipe.tokens(["go forward"], image=rgb, depth=np.flipud(depth).copy(), options=greedy)
    assert a.shape == (1, 300) and not torch.equal(a, b)  # the depth stream reaches the decoder
    with pytest.raises(TrajkitError, match="--image"):
        pipe.tokens(["go forward"])
    result = CliRunner().invoke(app, ["direct", "go forward", "-c", str(path), "--tokenizer", str(tokenizer),
                                 "--image", str(source / "case1_rgb.png"), "--depth", str(source / "case1_depth.npy"),
                                 "-o", str(tmp_path / "cam.json"), "--no-plot"])
    assert result.exit_code == 0, result.output
    assert len(json.loads((tmp_path / "cam.json").read_text())["frames"]) == 120
