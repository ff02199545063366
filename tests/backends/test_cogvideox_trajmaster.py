"""``cogvideox-3dtrajmaster`` end to end on a tiny random CogVideoX pipeline with 3DTrajMaster files in the released
layouts: annealed sampling on one transformer, weights loading, jobs, test sets and outputs."""

from __future__ import annotations

import gc
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("peft")

from cogvideox_models import FRAMES, SIZE, lora_state, write_lora  # noqa: E402

from trajkit.author.entities import arc, place, straight  # noqa: E402
from trajkit.backends.base import GenerationRequest  # noqa: E402
from trajkit.backends.cogvideox_trajmaster import CogVideoXTrajMasterBackend, dynamic_guidance  # noqa: E402
from trajkit.core.errors import TrajkitError  # noqa: E402

TRAJ = "D_loc1_61_t3n13_003d_Hemi12_1"


def request(files, **options):
    ents = place([straight(), arc()], ["a koi fish glides", "a bear walks"], frames=FRAMES)
    opts = {"base": str(files["base"]), "injector": str(files["injector"]), "lora": str(files["lora"]),
            "steps": 4, "injector_steps": 2, "location": "desert", **options}
    return GenerationRequest(size=SIZE, frames=FRAMES, fps=8.0, prompt="", entities=ents, seed=0, options=opts)


def live_parameter_bytes() -> tuple[int, int]:
    """(CogVideoX transformers alive, bytes of distinct parameter storages alive) — a copy would show in both."""
    from diffusers import CogVideoXTransformer3DModel

    gc.collect()
    # issubclass(type(o), …), not isinstance: isinstance reads o.__class__, which on some torch modules is a
    # deprecated lazy attribute (FutureWarning for torch.distributed.reduce_op).
    models = sum(issubclass(type(o), CogVideoXTransformer3DModel) for o in gc.get_objects())
    storages = {}
    for o in gc.get_objects():
        if issubclass(type(o), torch.nn.Parameter) and not o.is_meta:
            s = o.untyped_storage()
            storages[s.data_ptr()] = s.nbytes()
    return models, sum(storages.values())


class StepProbe:
    """Counts, per transformer call (one per step: CFG is batched), the LoRA and injector forwards."""

    def __init__(self, transformer):
        self.transformer = transformer
        self.calls: list[dict[str, int]] = []
        self.memory: list[tuple[int, int]] = []
        self.handles = [transformer.register_forward_pre_hook(self._new_call)]
        for name, module in transformer.named_modules():
            if name.endswith("lora_A.trajmaster"):
                self.handles.append(module.register_forward_hook(self._count("lora")))
            if name.endswith("attn_injector"):
                self.handles.append(module.to_q.register_forward_hook(self._count("injector")))

    def _new_call(self, module, args):
        self.calls.append({"lora": 0, "injector": 0})
        self.memory.append(live_parameter_bytes())

    def _count(self, what):
        def hook(module, args, output):
            self.calls[-1][what] += 1
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()


def test_annealed_sampling_switches_injector_and_lora_on_one_transformer(tiny_trajmaster, tmp_path):
    """The issue's end-to-end check: a job with 2 entities, 4 steps, annealing after step 2, through the runner."""
    from diffusers.models.attention_processor import CogVideoXAttnProcessor2_0

    from trajkit.formats.native import write_json
    from trajkit.jobs import parse_jobs, run_jobs
    from trajkit.viz.video import read_mp4

    req = request(tiny_trajmaster)
    write_json(req.entities, tmp_path / "entities.json")
    spec = {"name": "two", "entities": "entities.json", "backend": "cogvideox-3dtrajmaster", "frames": FRAMES,
            "size": list(SIZE), "options": dict(req.options)}
    backend = CogVideoXTrajMasterBackend()
    pipe = backend.pipeline(backend.check_request(req))  # the runner's backend finds this pipeline in the cache
    lora_modules = sum(1 for n, _ in pipe.transformer.named_modules() if n.endswith("lora_A.trajmaster"))
    assert lora_modules == 4 * 4  # attn1 q/k/v/out of the 4 blocks, never the injectors
    assert not any("attn_injector" in n for n, m in pipe.transformer.named_modules() if hasattr(m, "lora_A"))
    before = live_parameter_bytes()
    probe = StepProbe(pipe.transformer)
    try:
        results = run_jobs(parse_jobs(spec), tmp_path, tmp_path / "out")
    finally:
        probe.remove()
    assert [r.status for r in results] == ["done"], results[0].error
    assert [c["injector"] > 0 for c in probe.calls] == [True, True, False, False]
    assert [c["lora"] > 0 for c in probe.calls] == [True, True, False, False]
    assert probe.calls[0] == {"lora": 16, "injector": 2}  # 16 adapted projections, 2 injector blocks
    assert all(m == before for m in probe.memory), (before, probe.memory)  # no second transformer, no copy
    assert before[0] == 1
    folder = results[0].folder
    record = json.loads((folder / "job.json").read_text())
    log = record["backend_info"]["step_log"]
    assert [r["injector_calls"] for r in log] == [2, 2, 0, 0] and [r["lora"] for r in log] == [True, True, False, False]
    assert record["backend_info"]["prompt"] == "a koi fish glides and a bear walks are moving in the desert"
    frames, fps = read_mp4(folder / "video.mp4")
    assert frames.shape == (FRAMES, SIZE[1], SIZE[0], 3) and fps == pytest.approx(8.0)
    for plot in ("entities.png", "input.jpg"):
        assert (folder / plot).stat().st_size > 1000
    assert (folder / "entities.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "moving in the desert" in (folder / "report.html").read_text()
    # the pipeline is left as loaded: stock processors back, adapter enabled
    assert all(isinstance(b.attn1.processor, CogVideoXAttnProcessor2_0) for b in pipe.transformer.transformer_blocks)


def test_annealing_off_is_the_base_model_and_each_part_changes_the_video(tiny_trajmaster):
    from diffusers import CogVideoXDPMScheduler, CogVideoXPipeline

    backend = CogVideoXTrajMasterBackend()
    none = backend.generate(request(tiny_trajmaster, injector_steps=0)).frames
    base = CogVideoXPipeline.from_pretrained(tiny_trajmaster["base"])
    base.scheduler = CogVideoXDPMScheduler.from_config(base.scheduler.config, timestep_spacing="trailing")
    base.set_progress_bar_config(disable=True)
    prompt = "a koi fish glides and a bear walks are moving in the desert"
    ref = base(prompt=prompt, negative_prompt="", height=SIZE[1], width=SIZE[0], num_frames=FRAMES,
               num_inference_steps=4, guidance_scale=6.0, use_dynamic_cfg=True, output_type="np",
               max_sequence_length=16, generator=torch.Generator("cpu").manual_seed(0)).frames[0]
    assert np.array_equal(none, (np.clip(ref, 0, 1) * 255).round().astype(np.uint8))
    both = backend.generate(request(tiny_trajmaster)).frames
    no_lora = backend.generate(request(tiny_trajmaster, lora_scale=0.0)).frames
    aligned = backend.generate(request(tiny_trajmaster, mode="aligned")).frames
    for other in (none, no_lora, aligned):
        assert np.abs(both.astype(int) - other.astype(int)).max() > 0


def test_cfg_schedules(tiny_trajmaster):
    backend = CogVideoXTrajMasterBackend()
    legacy = backend.generate(request(tiny_trajmaster, cfg_schedule="legacy")).info["step_log"]
    timesteps = [r["timestep"] for r in legacy]
    assert [r["guidance"] for r in legacy] == pytest.approx([dynamic_guidance(6.0, 4, t) for t in timesteps])
    progress = backend.generate(request(tiny_trajmaster, cfg_schedule="progress")).info["step_log"]
    assert [r["guidance"] for r in progress] == pytest.approx([dynamic_guidance(6.0, 4, i) for i in range(4)])
    assert progress[0]["guidance"] == pytest.approx(7.0)
    constant = backend.generate(request(tiny_trajmaster, cfg_schedule="constant")).info["step_log"]
    assert {r["guidance"] for r in constant} == {6.0}


def test_the_spec_quirk_curve_jumps_around():
    values = [round(dynamic_guidance(6.0, 50, t), 2) for t in (999, 979, 959, 939)]
    assert values == [2.29, 2.54, 6.97, 6.42]  # trajmaster.md §6


def test_requests_it_cannot_render_are_refused_before_loading(tiny_trajmaster, tmp_path):
    backend = CogVideoXTrajMasterBackend()
    req = request(tiny_trajmaster)
    four = place([straight()] * 4, ["a", "b", "c", "d"], frames=FRAMES)
    cases = [
        (GenerationRequest(size=SIZE, frames=FRAMES, fps=8, options=req.options), "entity paths"),
        (GenerationRequest(size=SIZE, frames=FRAMES, fps=8, entities=four, options=req.options), "1–3 entities"),
        (GenerationRequest(size=SIZE, frames=10, fps=8, entities=req.entities, options=req.options), "4k \\+ 1"),
        (GenerationRequest(size=(40, 32), frames=FRAMES, fps=8, entities=req.entities, options=req.options),
         "multiples of 16"),
        (GenerationRequest(size=SIZE, frames=FRAMES, fps=8, entities=req.entities,
                           options={**req.options, "location": None}), "location"),
        (GenerationRequest(size=SIZE, frames=FRAMES, fps=8, entities=req.entities,
                           options={**req.options, "injector": None}), "injector weights are needed"),
        (GenerationRequest(size=SIZE, frames=FRAMES, fps=8, entities=req.entities,
                           options={**req.options, "lora": str(tmp_path)}), "no pytorch_lora_weights"),
        (GenerationRequest(size=SIZE, frames=FRAMES, fps=8, entities=req.entities,
                           options={**req.options, "mode": "fast"}), "options.mode"),
        (GenerationRequest(size=SIZE, frames=FRAMES, fps=8, entities=req.entities.replace(prompts=["", "x"]),
                           options=req.options), "no description"),
    ]
    for bad, message in cases:
        with pytest.raises(TrajkitError, match=message):
            backend.check_request(bad)


def test_injector_checkpoint_with_the_spec_key_names_loads_sharded(tiny_trajmaster, tmp_path):
    """A checkpoint written from trajmaster.md §5.1's key table (not from trajkit's modules), sharded as the release
    is, loads with no missing or unexpected keys and its values land where the spec says."""
    from diffusers import CogVideoXTransformer3DModel
    from safetensors.torch import save_file

    from trajkit.backends.cogvideox_weights import load_trajmaster_transformer

    base = CogVideoXTransformer3DModel.from_pretrained(tiny_trajmaster["base"], subfolder="transformer")
    state = dict(base.state_dict())
    g = torch.Generator().manual_seed(7)
    dim, head = 32, 16
    spec_keys = {}
    for i in (0, 2):
        prefix = f"transformer_blocks.{i}."
        for proj in ("to_q", "to_k", "to_v", "to_out.0"):
            spec_keys[f"{prefix}attn_injector.{proj}.weight"] = (dim, dim)
            spec_keys[f"{prefix}attn_injector.{proj}.bias"] = (dim,)
        for norm in ("norm_q", "norm_k"):
            spec_keys[f"{prefix}attn_injector.{norm}.weight"] = (head,)
            spec_keys[f"{prefix}attn_injector.{norm}.bias"] = (head,)
        spec_keys[f"{prefix}pose_fuse_layer.weight"] = (dim, 12)
        spec_keys[f"{prefix}pose_fuse_layer.bias"] = (dim,)
        spec_keys[f"{prefix}attn_null_feature"] = (dim,)
    state.update({k: torch.randn(shape, generator=g) for k, shape in spec_keys.items()})
    folder = tmp_path / "injector"
    folder.mkdir()
    keys = sorted(state)
    halves = {"diffusion_pytorch_model-00001-of-00002.safetensors": keys[: len(keys) // 2],
              "diffusion_pytorch_model-00002-of-00002.safetensors": keys[len(keys) // 2:]}
    for name, part in halves.items():
        save_file({k: state[k].contiguous() for k in part}, str(folder / name))
    index = {"metadata": {}, "weight_map": {k: name for name, part in halves.items() for k in part}}
    (folder / "diffusion_pytorch_model.safetensors.index.json").write_text(json.dumps(index))
    (folder / "config.json").write_text((tiny_trajmaster["base"] / "transformer" / "config.json").read_text())
    model = load_trajmaster_transformer(folder, None, torch.float32)
    loaded = model.state_dict()
    assert set(loaded) == set(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    assert torch.equal(model.transformer_blocks[2].attn_null_feature, state["transformer_blocks.2.attn_null_feature"])


def test_injector_only_file_and_lora_errors(tiny_trajmaster, tmp_path):
    from trajkit.backends.cogvideox_weights import load_trajmaster_transformer, read_lora, save_injectors

    full = load_trajmaster_transformer(tiny_trajmaster["injector"], None, torch.float32)
    only = save_injectors(full, tmp_path / "injector.safetensors")
    combined = load_trajmaster_transformer(only, tiny_trajmaster["base"], torch.float32)
    assert {k: v for k, v in combined.state_dict().items()}.keys() == full.state_dict().keys()
    assert all(torch.equal(combined.state_dict()[k], v) for k, v in full.state_dict().items())
    with pytest.raises(TrajkitError, match="need a base transformer"):
        load_trajmaster_transformer(only, None, torch.float32)
    # the released folder, with one injector tensor gone: the error names it
    broken = tmp_path / "broken"
    shutil.copytree(tiny_trajmaster["injector"], broken)
    from safetensors.torch import load_file, save_file

    weights = broken / "diffusion_pytorch_model.safetensors"
    state = load_file(str(weights))
    del state["transformer_blocks.2.attn_injector.to_v.bias"]
    save_file(state, str(weights))
    with pytest.raises(TrajkitError, match=r"missing keys \['transformer_blocks.2.attn_injector.to_v.bias'\]"):
        load_trajmaster_transformer(broken, None, torch.float32)
    del state["proj_out.weight"]
    save_file(state, str(weights))
    with pytest.raises(TrajkitError, match=r"1 missing \(e\.g\. proj_out\.weight\)"):
        load_trajmaster_transformer(broken, None, torch.float32)
    # a config that records other injector blocks than the weights hold
    config = json.loads((tiny_trajmaster["injector"] / "config.json").read_text())
    assert config["trajkit"]["injector_blocks"] == [0, 2]
    moved = tmp_path / "moved"
    shutil.copytree(tiny_trajmaster["injector"], moved)
    (moved / "config.json").write_text(json.dumps({**config, "trajkit": {"injector_blocks": [0, 3]}}))
    with pytest.raises(TrajkitError, match="blocks \\[0, 3\\]"):
        load_trajmaster_transformer(moved, None, torch.float32)
    # malformed configs are named, not tracebacks
    for bad in ({**config, "trajkit": "x"}, {**config, "trajkit": {"injector_blocks": ["a"]}}, [config]):
        (moved / "config.json").write_text(json.dumps(bad))
        with pytest.raises(TrajkitError, match=r"config\.json: (expected a JSON object|'trajkit' must be)"):
            load_trajmaster_transformer(moved, None, torch.float32)
    # LoRA files: the released key layout loads; others are refused by name
    assert len(read_lora(tiny_trajmaster["lora"], full)) == 32
    state = lora_state()
    state["transformer.transformer_blocks.0.attn_injector.to_q.lora_A.weight"] = torch.zeros(4, 32)
    with pytest.raises(TrajkitError, match="not 3DTrajMaster's attn1 LoRA"):
        read_lora(write_lora(tmp_path / "l1", state))
    state = lora_state()
    del state["transformer.transformer_blocks.1.attn1.to_k.lora_B.weight"]
    with pytest.raises(TrajkitError, match="lora_A only"):
        read_lora(write_lora(tmp_path / "l2", state))
    with pytest.raises(TrajkitError, match="names block 4"):
        read_lora(write_lora(tmp_path / "l3", lora_state(num_layers=5)), full)
    with pytest.raises(TrajkitError, match="adapts 64 → 64 features; the transformer's layer is 32 → 32"):
        read_lora(write_lora(tmp_path / "l4", lora_state(dim=64)), full)
    pickle = tmp_path / "lora.bin"
    pickle.write_bytes(b"\x80\x04")
    with pytest.raises(TrajkitError, match="pickles are not loaded"):
        read_lora(pickle)


def _dataset(tmp_path: Path, data_dir: Path) -> Path:
    """A 360°-Motion-shaped folder (Desert/<video>/<video>.json, location data, rig) from the shared files."""
    root = tmp_path / "360Motion" / "480_720"
    video = root / "Desert" / TRAJ
    video.mkdir(parents=True)
    shutil.copy(data_dir / "trajmaster" / f"{TRAJ}.json", video / f"{TRAJ}.json")
    shutil.copy(data_dir / "trajmaster" / "location_data_desert.json", root / "Desert" / "location_data.json")
    shutil.copy(data_dir / "trajmaster" / "Hemi12_transforms.json", root.parent / "Hemi12_transforms.json")
    return root


def test_test_sets_run_as_jobs_and_write_outputs(tiny_trajmaster, tmp_path, data_dir):
    from trajkit.jobs import load_jobs, run_jobs
    from trajkit.viz.video import read_mp4

    dataset = _dataset(tmp_path, data_dir)
    real = json.loads((data_dir / "trajmaster" / "test_sets.json").read_text())
    three = next(c for c in real.values() if len(c["entity_prompts"]) == 3)
    sets = tmp_path / "test_sets.json"
    sets.write_text(json.dumps({"0": {**three, "video_name": TRAJ}, "1": {**three, "video_name": "D_loc9_x"}}))
    with pytest.raises(TrajkitError, match="case 1 \\(D_loc9_x\\)"):
        load_jobs(sets, dataset=dataset)
    with pytest.raises(TrajkitError, match="--dataset"):
        load_jobs(sets)
    specs = load_jobs(sets, dataset=dataset, ids=["0"])
    assert [s.name for s in specs] == [f"0_{TRAJ}"] and specs[0].seed == 24
    options = {"base": str(tiny_trajmaster["base"]), "injector": str(tiny_trajmaster["injector"]),
               "lora": str(tiny_trajmaster["lora"]), "steps": 4, "injector_steps": 2}
    from trajkit.control.trajmaster import pose_vectors
    from trajkit.jobs.resolve import resolve_job
    from trajkit.jobs.spec import override_jobs

    # at 3DTrajMaster's 49 frames the model reads the clip's own latent frames: the spec's reference vectors (§13)
    resolved = resolve_job(override_jobs(specs, {"size": SIZE}, options)[0], tmp_path)
    assert resolved.request.frames == 49 and resolved.request.tracks.num_frames == 49
    vectors = pose_vectors(resolved.request.entities)
    assert vectors.shape == (3, 13, 12)
    assert np.allclose(vectors[0, 0], [0.005314, 0.093339, 0.995620, 0, 0.995634, -0.093341, -0.999986, 0.000496,
                                       0.005291, 1.961000, 2.211707, 7.831749], atol=1e-4)
    assert np.allclose(vectors[1, -1], [-0.138169, 0.092445, 0.986085, 0, 0.995634, -0.093341, -0.990409,
                                        -0.012897, -0.137566, -0.173000, 2.021478, 5.802647], atol=1e-4)
    specs = override_jobs(specs, {"frames": FRAMES, "size": SIZE}, options)
    results = run_jobs(specs, tmp_path, tmp_path / "out")
    assert [r.status for r in results] == ["done"], results[0].error
    folder = results[0].folder
    frames, fps = read_mp4(folder / "video.mp4")
    assert frames.shape[0] == FRAMES and fps == pytest.approx(8.0)
    record = json.loads((folder / "job.json").read_text())
    assert any("frames 10…94 at stride 1.75" in n for n in record["notes"])
    assert any("fps 8.0" in n for n in record["notes"])
    entities = json.loads((folder / "controls" / "entities.json").read_text())
    assert len(entities["prompts"]) == 3 and entities["prompts"][0] == three["entity_prompts"][0]
    png = (folder / "entities.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_generate_cli_with_entity_template_job(tiny_trajmaster, tmp_path):
    from typer.testing import CliRunner

    from trajkit.cli.main import app
    from trajkit.formats.native import write_json

    ents = place([straight(), arc()], ["a koi fish glides", "a bear walks"], frames=FRAMES)
    write_json(ents, tmp_path / "ents.json")
    (tmp_path / "job.yaml").write_text(
        f"- {{name: two, entities: ents.json, backend: cogvideox-3dtrajmaster, frames: {FRAMES}, size: [32, 32]}}\n"
        "- name: authored\n  backend: cogvideox-3dtrajmaster\n  frames: 9\n  size: [32, 32]\n"
        "  entities:\n    templates: [{shape: zigzag, length: 3, count: 2}, {shape: arc, radius: 2, degrees: 120},"
        " {shape: spin}]\n    prompts: [a red fox, a deer, a horse]\n    distance: 6\n")
    args = ["generate", str(tmp_path / "job.yaml"), "-o", str(tmp_path / "out"), "--base",
            str(tiny_trajmaster["base"]), "--injector", str(tiny_trajmaster["injector"]), "--lora",
            str(tiny_trajmaster["lora"]), "--steps", "2", "--injector-steps", "1", "--location", "park", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["done"] == 2
    assert (tmp_path / "out" / "two" / "video.mp4").is_file()
    authored = json.loads((tmp_path / "out" / "authored" / "controls" / "entities.json").read_text())
    assert authored["prompts"] == ["a red fox", "a deer", "a horse"]
    record = json.loads((tmp_path / "out" / "authored" / "job.json").read_text())
    assert any("zigzag, arc, spin, 6 m in front" in n for n in record["notes"])
    result = CliRunner().invoke(app, [*args[:-3], "--json"])  # no location and no prompt
    assert result.exit_code != 0 and "location" in result.output
    (tmp_path / "bad.yaml").write_text("entities: {file: ents.json, prompts: [just one]}\n"
                                       "backend: cogvideox-3dtrajmaster\n")
    result = CliRunner().invoke(app, ["generate", str(tmp_path / "bad.yaml"), "-o", str(tmp_path / "out2")])
    assert result.exit_code != 0 and "give 2 non-empty prompts, found 1" in result.output
    (tmp_path / "bad2.yaml").write_text("entities: {templates: [{shape: straight, width: 3}], prompts: [a fox]}\n"
                                        "backend: cogvideox-3dtrajmaster\n")
    result = CliRunner().invoke(app, ["generate", str(tmp_path / "bad2.yaml"), "-o", str(tmp_path / "out3")])
    assert result.exit_code != 0 and "straight does not take ['width']" in result.output
