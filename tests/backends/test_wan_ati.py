"""The wan-ati backend end to end on a tiny random Wan2.1 I2V pipeline (offline, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner
from wan_models import wan_original_state

from trajkit.backends import GenerationRequest, get_backend
from trajkit.backends.wan_ati import WanAtiBackend, ati_tracks_tensor
from trajkit.cli.main import app
from trajkit.control.ati import motion_patch
from trajkit.core.errors import TrajkitError
from trajkit.core.tracks import Tracks

SIZE = (32, 32)
FRAMES = 9


def source_image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((48, 64, 3)) * 255).astype(np.uint8)  # original 64×48, rendered at 32×32


def tracks_on(size: tuple[int, int]) -> Tracks:
    t = np.linspace(0, 1, FRAMES)[:, None]
    w, h = size
    xy = np.stack([np.stack([w * (0.3 + 0.4 * t[:, 0]), h * 0.5 + 0 * t[:, 0]], -1),
                   np.stack([w * 0.7 + 0 * t[:, 0], h * (0.2 + 0.5 * t[:, 0])], -1),
                   np.full((FRAMES, 2), [w * 0.2, h * 0.8])], axis=1)
    return Tracks(xy=xy.astype(np.float32), visible=np.ones((FRAMES, 3), bool), size=size, fps=16.0)


def request(base: Path, tracks: Tracks | None, **options: object) -> GenerationRequest:
    import cv2

    src = source_image()
    image = cv2.resize(src, SIZE, interpolation=cv2.INTER_CUBIC)
    return GenerationRequest(size=SIZE, frames=FRAMES, fps=16.0, image=image, source_image=src,
                             prompt="a fish swims left", tracks=None if tracks is None else tracks.rescale(SIZE),
                             seed=3, options={"base": str(base), "steps": 2, **options})


def generate_recording_inputs(req: GenerationRequest):
    """Run wan-ati and capture what the transformer's patch embedding actually receives (after every hook)."""
    backend = WanAtiBackend()
    seen: list[torch.Tensor] = []
    patch_embedding = backend.pipeline(dict(req.options)).transformer.patch_embedding
    handle = patch_embedding.register_forward_pre_hook(lambda m, a: seen.append(a[0].clone()))
    try:
        return backend.generate(req), seen
    finally:
        handle.remove()


def test_patched_condition_in_both_branches_inside_window(tiny_wan_base: Path) -> None:
    # A 4×4 latent is far coarser than the σ ≈ 2.4 % of the short side that τ = 220 gives; τ = 5 widens the splat.
    req = request(tiny_wan_base, tracks_on((64, 48)), window=[0.0, 0.5], temperature=5.0)
    video, seen = generate_recording_inputs(req)
    assert len(seen) == 4  # 2 steps × (conditional, unconditional)
    plain = seen[2][:, 16:]
    assert torch.equal(seen[3][:, 16:], plain)  # step 1 is outside [0, 0.5): plain conditioning
    # diffusers' condition is Wan's original layout: mask 1 on latent frame 0, 0 after (not ComfyUI's 1 − mask).
    assert torch.equal(plain[:, :4, 0], torch.ones_like(plain[:, :4, 0]))
    assert torch.equal(plain[:, :4, 1:], torch.zeros_like(plain[:, :4, 1:]))
    expected = motion_patch(ati_tracks_tensor(req), plain[0], temperature=5.0)
    for call in (0, 1):  # step 0: conditional and unconditional branch both patched
        assert torch.allclose(seen[call][0, 16:], expected, atol=1e-6)
    assert (seen[0][0, 16:20, 1:] > 0.5).any()  # the tracks raised the mask somewhere
    assert video.frames.shape == (FRAMES, 32, 32, 3) and video.frames.dtype == np.uint8
    assert video.info["patched_calls"] == 2 and video.info["transformer_calls"] == 4


def test_full_window_and_no_cfg(tiny_wan_base: Path) -> None:
    req = request(tiny_wan_base, tracks_on((64, 48)), guidance=1.0)
    video, seen = generate_recording_inputs(req)
    assert len(seen) == 2 and video.info["patched_calls"] == 2  # CFG off: one call per step, both patched


def test_no_tracks_is_the_plain_pipeline(tiny_wan_base: Path) -> None:
    from PIL import Image

    from trajkit.backends.wan_ati import ATI_NEGATIVE_PROMPT, AtiImageEmbeds

    backend = WanAtiBackend()
    req = request(tiny_wan_base, None)
    ours = backend.generate(req).frames
    pipe = backend.pipeline(dict(req.options))
    with torch.inference_mode(), AtiImageEmbeds(pipe, req.source_image):  # CLIP sees the original image, as ATI
        plain = pipe(image=Image.fromarray(req.image), prompt=req.prompt, negative_prompt=ATI_NEGATIVE_PROMPT,
                     height=32, width=32, num_frames=FRAMES, num_inference_steps=2, guidance_scale=5.0,
                     max_sequence_length=512, output_type="np",
                     generator=torch.Generator("cpu").manual_seed(3)).frames[0]
    np.testing.assert_array_equal(ours, (np.clip(plain, 0, 1) * 255).astype(np.uint8))
    with_tracks = backend.generate(request(tiny_wan_base, tracks_on((64, 48)), temperature=5.0)).frames
    assert not np.array_equal(with_tracks, ours)  # and the tracks do change the result


def test_ati_normalises_by_the_original_image(tiny_wan_base: Path) -> None:
    req = request(tiny_wan_base, tracks_on((64, 48)))
    ati = ati_tracks_tensor(req).numpy()
    # Track 2 sits at (0.2·64, 0.8·48) of the 64×48 original: short-edge units (x − 32)/24, (y − 24)/24.
    np.testing.assert_allclose(ati[0, 2, 1:3], [(12.8 - 32) / 24, (38.4 - 24) / 24], atol=1e-5)


def test_bad_requests_are_named(tiny_wan_base: Path) -> None:
    backend = get_backend("wan-ati")
    good = request(tiny_wan_base, None)
    for change, field in ((dict(frames=10), "frames"), (dict(size=(40, 32)), "size"), (dict(image=None), "image"),
                          (dict(options={"steps": 0}), "options.steps"),
                          (dict(options={"window": [0.8, 0.2]}), "options.window"),
                          (dict(options={"offload": "model", "device": "cpu"}), "options.offload"),
                          (dict(options={"base": "/nowhere/wan"}), "base model")):
        if "options" in change:
            change = {"options": {**good.options, **change["options"]}}
        bad = GenerationRequest(**{**good.__dict__, **change})
        with pytest.raises(TrajkitError, match=field.replace(".", r"\.")):
            backend.generate(bad)


def test_cli_runs_atis_own_test_yaml(data_dir: Path, tiny_wan_base: Path, tmp_path: Path) -> None:
    """ATI's examples/test.yaml unchanged, an ATI transformer file in Wan's layout, outputs and overlays."""
    weights = tmp_path / "ati.safetensors"
    save_file(wan_original_state(), str(weights))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["generate", str(data_dir / "ati" / "test.yaml"), "--backend", "wan-ati",
                                      "--base", str(tiny_wan_base), "--transformer", str(weights), "--steps", "1",
                                      "--frames", "9", "--size", "48x64", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["done"] == 6 and report["failed"] == 0
    from trajkit.viz.video import read_mp4

    for name in ("000_fish", "003_deco", "005_bear"):
        folder = out / name
        for file in ("video.mp4", "overlay.mp4", "input.jpg", "job.json", "report.html", "controls/tracks.json"):
            assert (folder / file).is_file(), f"{name}/{file}"
        record = json.loads((folder / "job.json").read_text())
        assert record["resolved"]["backend"] == "wan-ati" and record["spec"]["options"]["steps"] == 1
        frames, fps = read_mp4(folder / "video.mp4")
        assert frames.shape == (9, 64, 48, 3) and fps == 16
        overlay, _ = read_mp4(folder / "overlay.mp4")
        assert np.abs(overlay.astype(int) - frames.astype(int)).max() > 50  # tracks drawn on the result


def test_vae_tiling_option(tiny_wan_base: Path) -> None:
    backend = WanAtiBackend()
    video = backend.generate(request(tiny_wan_base, tracks_on((64, 48)), vae_tiling=True))
    assert backend.pipeline({"base": str(tiny_wan_base), "steps": 2, "vae_tiling": True}).vae.use_tiling
    assert video.frames.shape == (FRAMES, 32, 32, 3)


def test_base_found_in_the_hugging_face_cache_offline(tiny_wan_base: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import huggingface_hub.constants

    from trajkit.backends.wan_weights import locate_base

    repo = tmp_path / "hub" / "models--Wan-AI--Wan2.1-I2V-14B-480P-Diffusers"
    shutil.copytree(tiny_wan_base, repo / "snapshots" / "0123abcd")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert locate_base("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers") == repo / "snapshots" / "0123abcd"


def comfy_wan_track_to_video_rows(n_out: int, n_in: int = 121) -> np.ndarray:
    """ComfyUI WanTrackToVideo's resampling as the spec states it: repeat frames 1..n_in−1 b times, every a-th row."""
    import math

    g = math.gcd(n_in - 1, n_out - 1)
    a, b = (n_in - 1) // g, (n_out - 1) // g
    rows = np.repeat(np.arange(1, n_in), b)
    return np.concatenate([[0], rows[1::a]])


@pytest.mark.parametrize("frames", [81, 49, 121, 241])
def test_ati_example_job_reaches_the_patch_with_atis_timeline(data_dir: Path, tiny_wan_base: Path,
                                                              frames: int) -> None:
    from trajkit.formats import load
    from trajkit.jobs.resolve import resolve_job
    from trajkit.jobs.spec import JobSpec

    ati = data_dir / "ati"
    spec = JobSpec(image="images/fish.jpg", tracks="tracks/fish.pth", frames=frames, backend="wan-ati",
                   options={"base": str(tiny_wan_base)})
    job = resolve_job(spec, ati)
    got = ati_tracks_tensor(job.request).numpy()
    assert got.shape == (frames, 8, 4)
    if frames == 81:  # the whole path (rescale to 512×768, back to the original canvas) reproduces ATI's loader
        ref = np.load(ati / "reference" / "fish_reference.npz")["tracks_processed"]
        assert np.abs(got[..., 1:] - ref[..., 1:]).max() <= 1e-5
    raw = load(ati / "tracks" / "fish.pth", image=ati / "images" / "fish.jpg")
    comfy = comfy_wan_track_to_video_rows(frames)
    if frames in (121, 241):
        assert len(comfy) == frames - 1  # ComfyUI drops a frame here; trajkit keeps the whole timeline
        from trajkit.core.timing import ati_frame_indices

        idx = ati_frame_indices(frames)
        assert idx[0] == 0 and idx[-1] == 120 and (np.diff(idx) >= 0).all()
    else:
        idx = comfy  # 81: ATI's floor(3j/2), which the same rule gives; 49: WanTrackToVideo's
    np.testing.assert_array_equal(got[..., 3] > 0, raw.visible[idx])
    expected_x = (raw.xy[idx, :, 0] - raw.size[0] / 2) / min(raw.size) * 2
    assert np.abs(got[..., 1] - expected_x).max() <= 1e-4
