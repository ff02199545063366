"""Loading CLaTr checkpoints: the released layout (gendop.md §4.4) strictly, and bad files as named errors."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import PosixPath

import numpy as np
import pytest
import torch

from trajkit.core.errors import TrajkitError
from trajkit.evaluate.clatr.checkpoint import CLaTrCheckpointError, load_clatr, save_clatr
from trajkit.evaluate.clatr.model import CLaTr, CLaTrConfig


def _attention(prefix: str, d: int) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.in_proj_weight": (3 * d, d), f"{prefix}.in_proj_bias": (3 * d,),
            f"{prefix}.out_proj.weight": (d, d), f"{prefix}.out_proj.bias": (d,)}


def released_shapes(d: int = 256, ff: int = 1024, layers: int = 6) -> dict[str, tuple[int, ...]]:
    """Keys and shapes of ``epoch99_*.ckpt``'s state dict written out from the spec's table (§4.4)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for module, features in (("traj_encoder", 9), ("text_encoder", 512)):
        shapes |= {f"{module}.projection.weight": (d, features), f"{module}.projection.bias": (d,),
                   f"{module}.tokens": (2, d)}
        for i in range(layers):
            p = f"{module}.seqTransEncoder.layers.{i}"
            shapes |= _attention(f"{p}.self_attn", d)
            shapes |= {f"{p}.linear1.weight": (ff, d), f"{p}.linear1.bias": (ff,), f"{p}.linear2.weight": (d, ff),
                       f"{p}.linear2.bias": (d,)}
            shapes |= {f"{p}.{n}.{w}": (d,) for n in ("norm1", "norm2") for w in ("weight", "bias")}
    for i in range(layers):
        p = f"traj_decoder.seqTransDecoder.layers.{i}"
        shapes |= _attention(f"{p}.self_attn", d) | _attention(f"{p}.multihead_attn", d)
        shapes |= {f"{p}.linear1.weight": (ff, d), f"{p}.linear1.bias": (ff,), f"{p}.linear2.weight": (d, ff),
                   f"{p}.linear2.bias": (d,)}
        shapes |= {f"{p}.{n}.{w}": (d,) for n in ("norm1", "norm2", "norm3") for w in ("weight", "bias")}
    shapes |= {"traj_decoder.final_layer.weight": (9, d), "traj_decoder.final_layer.bias": (9,)}
    return shapes


def random_state(shapes: dict[str, tuple[int, ...]], seed: int = 0) -> OrderedDict:
    g = torch.Generator().manual_seed(seed)
    return OrderedDict((k, 0.02 * torch.randn(s, generator=g)) for k, s in shapes.items())


def lightning_file(path, state) -> None:
    """What a Lightning ``ModelCheckpoint`` writes: metadata around ``state_dict`` (plain data, tensors and the
    data-only objects of the allow-list: a path, NumPy scalars and arrays)."""
    torch.save({"epoch": 99, "global_step": 12345, "pytorch-lightning_version": "2.1.2", "state_dict": state,
                "loops": {"fit_loop": {"epoch_progress": {"total": {"completed": 99}}}},
                "callbacks": {"ModelCheckpoint{'monitor': None}": {
                    "best_model_score": torch.tensor(0.5), "dirpath": PosixPath("/checkpoints"),
                    "kth_value": np.float64(0.5), "best_k_models": {"/checkpoints/a.ckpt": np.array([0.5])}}},
                "optimizer_states": [{"state": {0: {"step": torch.tensor(9.0)}},
                                      "param_groups": [{"lr": 1e-5, "betas": (0.9, 0.999), "params": [0]}]}],
                "lr_schedulers": []}, path)


def test_released_layout_loads_strictly_at_full_size(tmp_path):
    shapes = released_shapes()
    # the spec's parameter counts: 4.74 M + 4.87 M + 6.32 M ≈ 15.9 M
    assert sum(int(np.prod(s)) for s in shapes.values()) == pytest.approx(15.93e6, rel=2e-3)
    state = random_state(shapes)
    path = tmp_path / "epoch99_motion.ckpt"
    lightning_file(path, state)
    model = load_clatr(path)
    assert model.config == CLaTrConfig()
    loaded = model.state_dict()
    assert set(loaded) == set(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    with torch.no_grad():
        mu, logvar = model.encode_trajectory(torch.zeros(2, 120, 9))
        recon = model.decode(mu, 120)
    assert mu.shape == logvar.shape == (2, 256) and recon.shape == (2, 120, 9)


def test_safetensors_round_trip_keeps_the_config(tmp_path):
    model = CLaTr(CLaTrConfig(latent=16, ff=24, layers=1, heads=2))
    path = save_clatr(model, tmp_path / "clatr.safetensors")
    loaded = load_clatr(path)
    assert loaded.config.heads == 2 and loaded.config.latent == 16
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())
    # a bare safetensors state (no trajkit metadata), e.g. converted from the released .ckpt, also loads
    from safetensors.torch import save_file

    save_file(dict(random_state(released_shapes(d=8, ff=16, layers=2))), tmp_path / "bare.safetensors")
    assert load_clatr(tmp_path / "bare.safetensors").config.layers == 2


def test_wrong_keys_are_a_named_error(tmp_path):
    state = random_state(released_shapes(d=8, ff=16, layers=2))
    state["traj_decoder.output.weight"] = state.pop("traj_decoder.final_layer.weight")
    path = tmp_path / "renamed.ckpt"
    lightning_file(path, state)
    with pytest.raises(CLaTrCheckpointError, match=r"1 missing \(e\.g\. traj_decoder\.final_layer\.weight\).*"
                                                    r"1 unexpected \(e\.g\. traj_decoder\.output\.weight\)"):
        load_clatr(path)


def test_a_state_dict_of_another_model_is_a_named_error(tmp_path):
    path = tmp_path / "other.ckpt"
    lightning_file(path, OrderedDict({"model.layer.weight": torch.zeros(3, 3)}))
    with pytest.raises(CLaTrCheckpointError, match=r"no traj_encoder\.projection\.weight.*model\.layer\.weight"):
        load_clatr(path)


class _TouchFile:
    """Unpickling this calls ``open(target, "w")``: code that creates a file."""

    def __init__(self, target) -> None:
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_pickle_with_code_is_refused_before_it_runs(tmp_path):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "epoch99_motion.ckpt"
    state = random_state(released_shapes(d=8, ff=16, layers=1))
    torch.save({"state_dict": state, "hyper_parameters": _TouchFile(target)}, path)
    with pytest.raises(CLaTrCheckpointError, match=r"refused to unpickle.*global io\.open is not allowed"):
        load_clatr(path)
    assert not target.exists()
    # the payload is live: an unrestricted unpickler would have created the file
    live = tmp_path / "live.txt"
    pickle.loads(pickle.dumps(_TouchFile(live))).close()
    assert live.exists()


def test_a_clatr_for_another_feature_size_is_a_named_error(tmp_path):
    path = save_clatr(CLaTr(CLaTrConfig(traj_features=12, latent=8, ff=16, layers=1)), tmp_path / "et.safetensors")
    with pytest.raises(CLaTrCheckpointError, match=r"trajectories of 12 numbers per frame.*have 9"):
        load_clatr(path)
    text = save_clatr(CLaTr(CLaTrConfig(text_features=384, latent=8, ff=16, layers=1)), tmp_path / "mini.safetensors")
    with pytest.raises(CLaTrCheckpointError, match=r"text features of width 384.*gives 512"):
        load_clatr(text)
    assert load_clatr(text, text_features=384).config.text_features == 384


@pytest.mark.parametrize("content", [b"not a checkpoint at all", b""])
def test_unreadable_files_are_named_errors(tmp_path, content):
    path = tmp_path / "broken.ckpt"
    path.write_bytes(content)
    with pytest.raises(CLaTrCheckpointError, match=r"broken\.ckpt"):
        load_clatr(path)
    with pytest.raises(TrajkitError, match="does not exist"):
        load_clatr(tmp_path / "missing.ckpt")


def test_non_tensor_state_entries_and_bad_head_counts_are_named(tmp_path):
    state = random_state(released_shapes(d=8, ff=16, layers=1))
    state["traj_encoder.tokens"] = [[0.0] * 8] * 2
    path = tmp_path / "lists.ckpt"
    lightning_file(path, state)
    with pytest.raises(CLaTrCheckpointError, match=r"not tensors: traj_encoder\.tokens"):
        load_clatr(path)
    good = tmp_path / "good.ckpt"
    lightning_file(good, random_state(released_shapes(d=8, ff=16, layers=1)))
    with pytest.raises(CLaTrCheckpointError, match="3 heads do not divide the latent width 8"):
        load_clatr(good, heads=3)
    with pytest.raises(TrajkitError, match="device 'gpu7'"):
        load_clatr(good, device="gpu7")
