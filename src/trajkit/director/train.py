"""Training directors with Accelerate (``trajkit train director``; ``shared/specs/gendop.md`` §6).

Defaults are GenDoP's optimiser and schedule: AdamW betas (0.9, 0.95), weight decay 0.01, no warm-up, a
per-batch cosine from 1 down to a 0.1 floor, gradient clipping at 1.0, batch 16, bf16 on a GPU (fp32 on a
CPU). The cosine spans the epochs actually run (GenDoP spans 1000 and stops near 100; pass
``schedule_epochs=1000`` to reproduce). Data: DataDoP-layout folders or synthetic shots
(:mod:`trajkit.director.synthetic`). Output folder::

    model.safetensors + config.json     the last epoch (a loadable director)
    best/                               the epoch with the lowest training loss
    state/ + trainer.json               optimiser, scheduler and RNG state for --resume
    metrics.json                        losses per epoch; caption F-score on held-out synthetic shots
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from ..core.errors import TrajkitError
from ..formats._io import atomic_write_text, read_json
from .checkpoint import save_director
from .data import CaptionedCameras, datadop_folder, synthetic_set
from .model import Director, DirectorConfig, sequence_loss

#: Spare learned positions beyond prefix + BOS + coordinates + EOS.
POSITIONS_MARGIN = 8
#: Options that may change when a run is resumed; every other option must match the stored run.
RESUMABLE = frozenset({"output", "resume", "epochs", "threads", "mixed_precision"})
PRESETS: dict[str, dict] = {
    # GenDoP's ArAE text model shape (its text encoder is CLIP; trajkit's new models read MiniLM features)
    "gendop": dict(hidden=1024, heads=8, layers=12, ffn=4096, poses=30, slots=list(range(10)), text_tokens=77,
                   lr=1e-5, dropout=0.1, relative_to="first"),
    # the embedded model: 20 poses × (quaternion, normalised translation) = 140 tokens, each pose relative to the
    # previous one. No scale token (a point mass at "no translation" that greedy decoding preferred over the
    # spread of real scales) and no intrinsics. With poses relative to the first, a model this size learned
    # the first segment of a shot but not how later segments compose with earlier turns.
    "small": dict(hidden=128, heads=4, layers=4, ffn=512, poses=20, slots=[0, 1, 2, 3, 4, 5, 6],
                  text_tokens=48, lr=1e-3, dropout=0.05, relative_to="previous"),
}


class TrainOptions(BaseModel):
    """Options of ``trajkit train director`` (see the CLI help for each)."""

    model_config = ConfigDict(extra="forbid")

    output: Path
    data: str = "synthetic"
    caption_key: str = "Movement"
    preset: Literal["small", "gendop"] = "small"
    hidden: int | None = Field(None, ge=1)
    heads: int | None = Field(None, ge=1)
    layers: int | None = Field(None, ge=1)
    ffn: int | None = Field(None, ge=1)
    poses: int | None = Field(None, ge=1)
    slots: list[int] | None = None
    text_tokens: int | None = Field(None, ge=1)
    synthetic: int = Field(20000, ge=1)
    held_out: int = Field(300, ge=0)
    epochs: int = Field(10, ge=1)
    schedule_epochs: int | None = None
    batch_size: int = Field(16, ge=1)
    lr: float | None = None
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.95)
    floor: float = 0.1
    grad_clip: float = 1.0
    dropout: float | None = None
    seed: int = 0
    resume: bool = False
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = "auto"
    threads: int | None = Field(None, ge=1)

    def resolved(self, key: str) -> Any:
        value = getattr(self, key)
        return PRESETS[self.preset][key] if value is None else value

    def director_config(self) -> DirectorConfig:
        text_tokens = self.resolved("text_tokens")
        poses, slots = self.resolved("poses"), tuple(self.resolved("slots"))
        return DirectorConfig(hidden=self.resolved("hidden"), heads=self.resolved("heads"),
                              layers=self.resolved("layers"), ffn=self.resolved("ffn"),
                              dropout=self.resolved("dropout"),
                              positions=text_tokens + 2 + poses * len(slots) + POSITIONS_MARGIN,
                              cond_mode="text", text_encoder="minilm", text_tokens=text_tokens, poses=poses,
                              slots=slots, token_offset=3, caption_key=self.caption_key,
                              relative_to=PRESETS[self.preset]["relative_to"],
                              notes={"trained_on": self.data, "epochs": self.epochs})


def lr_factor(step: int, total: int, floor: float = 0.1) -> float:
    """GenDoP's schedule: ``max(floor, floor + (1 − floor)·½(1 + cos(π·step/total)))``."""
    return max(floor, floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step, total) / max(total, 1))))


def _load_data(options: TrainOptions, log: Callable[[str], None]
               ) -> tuple[CaptionedCameras, CaptionedCameras | None]:
    if options.data == "synthetic":
        log(f"building {options.synthetic} synthetic shots (seed {options.seed}) "
            f"and {options.held_out} held-out (seed {options.seed + 1_000_003})")
        train = synthetic_set(options.synthetic, options.seed)
        held = synthetic_set(options.held_out, options.seed + 1_000_003) if options.held_out else None
        return train, held
    return datadop_folder(options.data, options.caption_key, log=log), None


def train_director(options: TrainOptions, log: Callable[[str], None] = print, progress: bool = False) -> dict:
    """Train (or resume) a director; returns the metrics written to ``metrics.json``. ``progress`` shows a bar per
    epoch on stderr."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if options.threads:
        torch.set_num_threads(options.threads)
    output = options.output
    trainer_file = output / "trainer.json"
    if output.exists() and not output.is_dir():
        raise TrajkitError(f"--output {output} is a file; a training run needs a folder")
    if output.exists() and any(output.iterdir()) and not options.resume:
        raise TrajkitError(f"{output} already holds a training run; pass --resume to continue it or choose "
                           "another --output")
    progress_state = {"epoch": 0, "step": 0, "best": None, "losses": []}
    if options.resume:
        if not trainer_file.is_file():
            raise TrajkitError(f"{output}: nothing to resume (no trainer.json)")
        saved = read_json(trainer_file, "trainer.json")
        if not isinstance(saved, dict) or not isinstance(saved.get("progress"), dict):
            raise TrajkitError(f"{trainer_file}: not a trajkit trainer state (no progress)")
        stored, current = saved.get("options", {}), options.model_dump(mode="json")
        changed = [f"{key} was {stored.get(key)!r}, now {current.get(key)!r}"
                   for key in sorted((set(stored) | set(current)) - RESUMABLE) if stored.get(key) != current.get(key)]
        if changed:
            raise TrajkitError(f"--resume: {'; '.join(changed)} in {output}; resume with the same options (only "
                               "--epochs, --threads and --mixed-precision may change)")
        progress_state = saved["progress"]
    mixed = options.mixed_precision
    if mixed == "auto":
        mixed = "bf16" if torch.cuda.is_available() else "no"
    accelerator = Accelerator(mixed_precision=mixed)
    set_seed(options.seed)
    config = options.director_config()
    train, held = _load_data(options, log)
    log(f"encoding {len(train)} captions with all-MiniLM-L6-v2 (frozen)")
    dataset = train.tensors(config, accelerator.device)
    model = Director(config)
    lr = options.resolved("lr")
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=options.betas, weight_decay=options.weight_decay)
    steps_per_epoch = len(dataset) // options.batch_size
    if steps_per_epoch == 0:
        raise TrajkitError(f"{len(dataset)} training samples are fewer than one batch of {options.batch_size}")
    total = (options.schedule_epochs or options.epochs) * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total, options.floor))
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    if options.resume:
        accelerator.load_state(str(output / "state"))
    output.mkdir(parents=True, exist_ok=True)
    params = sum(p.numel() for p in model.parameters())
    log(f"director {config.hidden}×{config.layers} ({params / 1e6:.2f} M parameters), {len(dataset)} samples, "
        f"{steps_per_epoch} steps/epoch, lr {lr:g}, device {accelerator.device}, precision {mixed}")
    started = time.time()
    for epoch in range(progress_state["epoch"], options.epochs):
        model.train()
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(options.seed * 1000 + epoch))
        total_loss = 0.0
        bar = Progress(TextColumn(f"epoch {epoch + 1}/{options.epochs}"), BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn(), console=Console(stderr=True), transient=True, disable=not progress)
        bar.start()
        task = bar.add_task("steps", total=steps_per_epoch)
        for step in range(steps_per_epoch):
            index = order[step * options.batch_size:(step + 1) * options.batch_size]
            features, ids = dataset.batch(index)
            with accelerator.autocast():
                loss = sequence_loss(model(features, ids), ids)  # through the wrapper, so DDP syncs gradients
            accelerator.backward(loss)
            if options.grad_clip:
                accelerator.clip_grad_norm_(model.parameters(), options.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            total_loss += float(loss.detach())
            progress_state["step"] += 1
            bar.advance(task)
        bar.stop()
        mean = total_loss / steps_per_epoch
        progress_state["losses"].append(mean)
        progress_state["epoch"] = epoch + 1
        unwrapped = accelerator.unwrap_model(model)
        held_loss = _held_out_loss(unwrapped, held, config, accelerator.device) if held is not None else None
        log(f"epoch {epoch + 1}/{options.epochs}: loss {mean:.4f}"
            + (f", held-out {held_loss:.4f}" if held_loss is not None else "")
            + f", lr {scheduler.get_last_lr()[0]:.2e}, {time.time() - started:.0f} s")
        if progress_state["best"] is None or mean < progress_state["best"]:
            progress_state["best"] = mean
            save_director(unwrapped, output / "best")
        save_director(unwrapped, output)
        accelerator.save_state(str(output / "state"))
        atomic_write_text(trainer_file, json.dumps({"options": options.model_dump(mode="json"),
                                                    "progress": progress_state}, indent=2))
    metrics = {"losses": progress_state["losses"], "seconds": time.time() - started}
    if held is not None and len(held):
        from .pipeline import DirectorPipeline, tagged_fscore

        pipe = DirectorPipeline(model=accelerator.unwrap_model(model).eval(), source=str(output))
        metrics["held_out_caption_fscore"] = tagged_fscore(pipe, held.captions, held.cameras)
        log(f"held-out caption F-score {metrics['held_out_caption_fscore']['fscore']:.3f} "
            f"({len(held)} shots, greedy)")
    atomic_write_text(output / "metrics.json", json.dumps(metrics, indent=2))
    return metrics


@torch.no_grad()
def _held_out_loss(model: Director, held: CaptionedCameras, config: DirectorConfig, device: torch.device) -> float:
    model.eval()
    data = held.tensors(config, device)
    losses = []
    for start in range(0, len(data), 64):
        features, ids = data.batch(torch.arange(start, min(start + 64, len(data))))
        losses.append(float(model.loss(features, ids)) * len(ids))
    model.train()
    return float(np.sum(losses) / len(data))
