"""Loading Wan-layout transformer weights (ATI's release, community fp16/fp8 files) into diffusers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from wan_models import wan_original_state

from trajkit.backends.wan_weights import load_wan_transformer, locate_base, transformer_files, wan_to_diffusers_key
from trajkit.core.errors import TrajkitError


def forward(model: torch.nn.Module) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        return model(hidden_states=torch.randn(1, 36, 3, 4, 4, generator=g), timestep=torch.tensor([500]),
                     encoder_hidden_states=torch.randn(1, 12, 32, generator=g),
                     encoder_hidden_states_image=torch.randn(1, 17, 16, generator=g), return_dict=False)[0]


def same_output(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """Equal up to float32 summation order: the same weights in another memory layout (a sharded or mmapped
    load) can take another GEMM path and differ in the last bits (seen with torch 2.13 / safetensors 0.8, ~1e-5 on
    outputs of size ~4); wrong or missing weights differ by orders of magnitude more."""
    return torch.allclose(got, expected, rtol=0, atol=5e-5)


def native(path: Path, base: Path) -> torch.nn.Module:
    """The same file loaded by diffusers' own converter for original Wan checkpoints (the oracle)."""
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel.from_single_file(str(path), config=str(base), subfolder="transformer",
                                                  torch_dtype=torch.float32, local_files_only=True).eval()


def test_wan_layout_loads_like_diffusers(tmp_path: Path, tiny_wan_base: Path) -> None:
    state = wan_original_state()
    path = tmp_path / "ati.safetensors"
    save_file(state, str(path))
    ours = load_wan_transformer(path, tiny_wan_base / "transformer", torch.float32)
    expected = forward(native(path, tiny_wan_base))
    assert same_output(forward(ours), expected)
    # ComfyUI prefix, and a sharded copy with an index, load the same weights.
    prefixed = tmp_path / "comfy.safetensors"
    save_file({"model.diffusion_model." + k: v for k, v in state.items()}, str(prefixed))
    assert same_output(forward(load_wan_transformer(prefixed, tiny_wan_base / "transformer", torch.float32)), expected)
    shards = tmp_path / "sharded"
    shards.mkdir()
    keys = sorted(state)
    half = len(keys) // 2
    weight_map = {}
    for n, part in enumerate((keys[:half], keys[half:])):
        name = f"diffusion_pytorch_model-0000{n + 1}-of-00002.safetensors"
        save_file({k: state[k] for k in part}, str(shards / name))
        weight_map.update(dict.fromkeys(part, name))
    (shards / "diffusion_pytorch_model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert len(transformer_files(shards)) == 2
    assert same_output(forward(load_wan_transformer(shards, tiny_wan_base / "transformer", torch.float32)), expected)


@pytest.mark.parametrize("fp8", [torch.float8_e4m3fn, torch.float8_e5m2])
def test_fp8_single_file_is_upcast(tmp_path: Path, tiny_wan_base: Path, fp8: torch.dtype) -> None:
    state = wan_original_state(seed=2)
    quantised = {k: v.to(fp8) if v.ndim == 2 else v for k, v in state.items()}  # fp8 matrices, fp32 norms/biases
    path = tmp_path / "ati_fp8.safetensors"
    save_file(quantised, str(path))
    reference = tmp_path / "ati_fp8_as_fp32.safetensors"
    save_file({k: v.float() for k, v in quantised.items()}, str(reference))
    ours = load_wan_transformer(path, tiny_wan_base / "transformer", torch.float32)
    assert same_output(forward(ours), forward(native(reference, tiny_wan_base)))
    assert not torch.equal(forward(ours), forward(load_wan_transformer(
        _save(tmp_path / "full.safetensors", state), tiny_wan_base / "transformer", torch.float32)))


def _save(path: Path, state: dict[str, torch.Tensor]) -> Path:
    save_file(state, str(path))
    return path


def test_scaled_fp8_multiplies_scale(tmp_path: Path, tiny_wan_base: Path) -> None:
    state = wan_original_state(seed=3)
    scaled, dequantised = {}, {}
    for k, v in state.items():
        if v.ndim == 2:
            scale = v.abs().max() / 200
            q = (v / scale).to(torch.float8_e4m3fn)
            scaled[k], scaled[k.replace(".weight", ".scale_weight")] = q, scale.reshape(1)
            dequantised[k] = q.float() * scale
        else:
            scaled[k] = dequantised[k] = v
    ours = load_wan_transformer(_save(tmp_path / "scaled.safetensors", scaled), tiny_wan_base / "transformer",
                                torch.float32)
    assert same_output(forward(ours), forward(native(_save(tmp_path / "deq.safetensors", dequantised),
                                                     tiny_wan_base)))


def test_bf16_dtype(tmp_path: Path, tiny_wan_base: Path) -> None:
    state = wan_original_state()
    model = load_wan_transformer(_save(tmp_path / "a.safetensors", state), tiny_wan_base / "transformer",
                                 torch.bfloat16)
    dtypes = {name: p.dtype for name, p in model.named_parameters()}
    assert dtypes["blocks.0.attn1.to_q.weight"] == torch.bfloat16
    assert dtypes["blocks.0.scale_shift_table"] == torch.float32  # diffusers' keep-in-fp32 modules
    assert dtypes["blocks.0.norm2.weight"] == torch.float32
    # …with the file's float32 values, not values rounded through bf16 on the way (as from_pretrained)
    assert torch.equal(model.blocks[0].scale_shift_table, state["blocks.0.modulation"])


def test_key_names() -> None:
    assert wan_to_diffusers_key("blocks.7.self_attn.o.weight") == "blocks.7.attn1.to_out.0.weight"
    assert wan_to_diffusers_key("blocks.0.cross_attn.k_img.bias") == "blocks.0.attn2.add_k_proj.bias"
    assert wan_to_diffusers_key("blocks.3.norm3.weight") == "blocks.3.norm2.weight"
    assert wan_to_diffusers_key("blocks.3.modulation") == "blocks.3.scale_shift_table"
    assert wan_to_diffusers_key("model.diffusion_model.head.head.weight") == "proj_out.weight"
    with pytest.raises(TrajkitError, match="lora_down"):
        wan_to_diffusers_key("blocks.0.self_attn.q.lora_down.weight")


def test_bad_weights_are_named(tmp_path: Path, tiny_wan_base: Path) -> None:
    state = wan_original_state()
    del state["blocks.2.ffn.0.weight"]
    with pytest.raises(TrajkitError, match=r"1 missing \(e\.g\. blocks\.2\.ffn\.net\.0\.proj\.weight"):
        load_wan_transformer(_save(tmp_path / "m.safetensors", state), tiny_wan_base / "transformer", torch.float32)
    state = wan_original_state()
    state["blocks.0.ffn.0.weight"] = torch.zeros(5, 5)
    with pytest.raises(TrajkitError, match="other shapes"):
        load_wan_transformer(_save(tmp_path / "s.safetensors", state), tiny_wan_base / "transformer", torch.float32)
    pickle = tmp_path / "ati.pth"
    pickle.write_bytes(b"\x80\x02")
    with pytest.raises(TrajkitError, match="pickle"):
        transformer_files(pickle)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(TrajkitError, match="not a readable safetensors"):
        load_wan_transformer(tmp_path / "junk.safetensors", tiny_wan_base / "transformer", torch.float32)
    with pytest.raises(TrajkitError, match="does not exist"):
        transformer_files(tmp_path / "nowhere")


def test_locate_base(tmp_path: Path, tiny_wan_base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert locate_base(tiny_wan_base) == tiny_wan_base
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "model_index.json").write_text("{}")
    (partial / "vae").mkdir()
    (partial / "vae" / "config.json").write_text("{}")
    with pytest.raises(TrajkitError) as err:
        locate_base(partial, need_transformer=False)
    message = str(err.value)
    assert "missing tokenizer, text_encoder, image_encoder, image_processor, scheduler" in message
    assert str(partial) in message and "hf download" in message
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(TrajkitError, match="not in the Hugging Face cache"):
        locate_base("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers")
