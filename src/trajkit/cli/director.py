"""``trajkit direct`` (text → camera paths) and ``trajkit train director``."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..core.camera import CameraPath
from ..core.errors import TrajkitError
from ._common import camera_hint, err, fail, load_typed, out, parse_size, print_json

train_app = typer.Typer(help="Train models: the director (text → camera path).", no_args_is_help=True)


def _outputs(output: Path, count: int) -> list[Path]:
    if count == 1:
        return [output]
    return [output.with_name(f"{output.stem}_{i}{output.suffix}") for i in range(count)]


def _missing_extra(exc: ImportError) -> None:
    fail(f"the director is an optional extra: pip install 'trajkit[director]' "
          f"({exc.name or exc} is missing)")


def direct(
    prompt: str = typer.Argument(..., help="The camera move in words, e.g. \"slowly push in, then pan left\"."),
    output: Path = typer.Option(Path("camera.json"), "--output", "-o",
                                help="Camera file to write; with --num N, name_0.json … name_{N-1}.json."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", "-c",
                                           help="A trajkit director folder or a GenDoP text_*.safetensors "
                                                "(default: the small director embedded in trajkit)."),
    tokenizer: Path | None = typer.Option(None, "--tokenizer",
                                          help="GenDoP checkpoints: SD-2.1-base's CLIP tokenizer folder."),
    token_offset: str = typer.Option("auto", "--token-offset",
                                     help="GenDoP checkpoints: token id = bin + 0 or + 3; auto = detect."),
    heads: int | None = typer.Option(None, "--heads", min=1, help="GenDoP checkpoints: the decoder's attention "
                                     "heads, which the file cannot tell (default 8, the released preset)."),
    encoder_heads: int | None = typer.Option(None, "--encoder-heads", min=1,
                                             help="GenDoP checkpoints: the CLIP towers' heads (default 16)."),
    text_encoder: Path | None = typer.Option(None, "--text-encoder",
                                             help="GenDoP checkpoints holding only the decoder: the CLIP text "
                                                  "encoder folder their text features come from."),
    image: Path | None = typer.Option(None, "--image", help="text_rgbd: the first frame (PNG/JPEG)."),
    depth: Path | None = typer.Option(None, "--depth", help="text_rgbd: its raw depth map (.npy, H×W)."),
    num: int = typer.Option(1, "--num", "-n", min=1, max=256, help="Camera paths to sample."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed (same seed, same paths)."),
    greedy: bool = typer.Option(False, "--greedy", help="Take the most likely token every step (no sampling)."),
    top_k: int = typer.Option(10, "--top-k", min=1, help="Sample among the k most likely tokens (GenDoP: 10)."),
    temperature: float = typer.Option(1.0, "--temperature", min=1e-3, help="Soften (> 1) or sharpen (< 1)."),
    frames: int = typer.Option(120, "--frames", min=2, help="Frames of the written path (DataDoP: 120)."),
    fps: float = typer.Option(30.0, "--fps", min=1e-3, help="Frame rate of the written path."),
    size: str = typer.Option("512x288", "--size", help="Canvas WxH for the intrinsics."),
    to: str = typer.Option("gendop-json", "--to", help="gendop-json (GenDoP/DataDoP layout) or trajkit-json."),
    normalised: bool = typer.Option(False, "--normalised",
                                    help="Write GenDoP's normalised units (max ‖t‖ ≈ 1) instead of the decoded scale."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Also write a three-view PNG next to each file."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:1 …"),
    strict: bool = typer.Option(False, "--strict", help="Refuse a prompt that names no camera motion the "
                                "director knows, instead of warning."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
) -> None:
    """Write camera paths for a text prompt with a director (GenDoP's text-to-camera model family).

    The embedded director is small, trained on synthetic shots whose captions use DataDoP's motion
    words and common synonyms (push in, pull back, pan, tilt, truck, crane, bank); it runs offline on a
    CPU in seconds. GenDoP's released checkpoints load with --checkpoint (plus --tokenizer).

    Each written path is tagged with GenDoP's motion tagger, so you see what the camera actually does.

    Examples:

        trajkit direct "slowly push in on the subject" -o push.json

        trajkit direct "the camera glides to the right and turns left, then rises" -n 4 --seed 1 -o cam.json

        trajkit direct "pan left" -c checkpoints/text_motion.safetensors --tokenizer sd21/tokenizer

        trajkit direct "go down the hall" -c text_rgbd.safetensors --tokenizer tok --image rgb.png --depth d.npy
    """
    from ..director.captions import caption
    from ..director.tagging import tag
    from ..formats.images import load_depth, load_image
    from ..formats.registry import save

    try:
        from ..director.pipeline import DirectorPipeline
        from ..director.sampling import SamplingOptions

        # GenDoP checkpoints encode prompts with transformers' CLIP; looked up, not imported (≈ 0.5 s)
        if importlib.util.find_spec("transformers") is None:
            raise ImportError("transformers is missing", name="transformers")
    except ImportError as exc:
        _missing_extra(exc)

    from ..director.captions import unknown_motion_warning

    warnings = [w for w in (unknown_motion_warning(prompt),) if w]
    if warnings and strict:
        fail(warnings[0] + " (--strict)")
    for warning in warnings if not as_json else ():
        err.print(f"[yellow]warning:[/] {escape(warning)}; the path below is a guess", highlight=False)
    if to not in ("gendop-json", "trajkit-json"):
        fail(f"--to: expected gendop-json or trajkit-json, found {to!r}")
    if token_offset not in ("auto", "0", "3"):
        fail(f"--token-offset: expected auto, 0 or 3, found {token_offset!r}")
    canvas = parse_size(size, "--size")
    started = time.time()
    try:
        options = SamplingOptions(mode="greedy" if greedy else "top-k", top_k=top_k, temperature=temperature)
        rgb = load_image(image) if image is not None else None
        depth_map = load_depth(depth) if depth is not None else None
        offset = None if token_offset == "auto" else int(token_offset)
        pipe = DirectorPipeline.load(checkpoint, tokenizer=tokenizer, token_offset=offset, heads=heads,
                                     encoder_heads=encoder_heads, text_encoder=text_encoder, device=device)
        if offset is None:
            pipe.detect_token_offset(prompt, rgb, depth_map)
        cameras = pipe(prompt, num=num, seed=seed, options=options, frames=frames, fps=fps, size=canvas,
                       normalised=normalised, image=rgb, depth=depth_map)
        rows = []
        for camera, path in zip(cameras, _outputs(output, num), strict=True):
            save(camera, path, format=to)
            picture = None
            if plot:
                from ..viz.plots import camera_three_view

                picture = path.with_suffix(".png")
                camera_three_view(camera, picture)
            segments = tag(camera)
            rows.append({"file": str(path), "plot": str(picture) if picture else None,
                         "segments": [{"name": s.name, "start": s.start, "end": s.end} for s in segments],
                         "reads_as": caption(segments)})
    except TrajkitError as exc:
        fail(str(exc))
    elapsed = time.time() - started
    if as_json:
        print_json({"prompt": prompt, "director": pipe.source, "seconds": round(elapsed, 3), "paths": rows,
                    "warnings": warnings})
        return
    table = Table(title=f"“{prompt}” → {num} camera path{'s' if num > 1 else ''} ({elapsed:.1f} s)",
                  title_justify="left")
    for col in ("file", "tagged motion (frames)"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(row["file"], "; ".join(f"{s['name']} ({s['start']}–{s['end'] + 1})" for s in row["segments"]))
    out.print(table)
    if rows and rows[0]["plot"]:
        out.print(f"three-view plots next to each file ({Path(rows[0]['plot']).name} …)")


@train_app.command("director")
def train_director_command(
    output: Path = typer.Option(..., "--output", "-o", help="Run folder (checkpoints, state, metrics)."),
    data: str = typer.Option("synthetic", "--data",
                             help="'synthetic' or a DataDoP folder (train_valid.txt + train/, or any tree of "
                                  "*_transforms_cleaning.json with *_caption.json)."),
    caption_key: str = typer.Option("Movement", "--caption-key", help="DataDoP caption: Movement or "
                                                                      "'Concise Interaction'."),
    preset: str = typer.Option("small", "--preset", help="small (the embedded model's shape) or gendop "
                                                         "(1024 × 12 layers, 30 poses × 10 tokens)."),
    epochs: int = typer.Option(10, "--epochs", min=1),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="GenDoP: 16."),
    lr: float | None = typer.Option(None, "--lr", help="Peak learning rate (default: the preset's; GenDoP 1e-5)."),
    schedule_epochs: int | None = typer.Option(None, "--schedule-epochs",
                                               help="Length of the cosine in epochs (default: --epochs; "
                                                    "GenDoP used 1000 and stopped near 100)."),
    synthetic: int = typer.Option(20000, "--synthetic", min=1, help="Synthetic training shots."),
    held_out: int = typer.Option(300, "--held-out", min=0, help="Held-out synthetic shots (another seed)."),
    hidden: int | None = typer.Option(None, "--hidden"),
    layers: int | None = typer.Option(None, "--layers"),
    heads: int | None = typer.Option(None, "--heads"),
    poses: int | None = typer.Option(None, "--poses", help="Poses per path (GenDoP: 30)."),
    seed: int = typer.Option(0, "--seed"),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --output from its last epoch."),
    mixed_precision: str = typer.Option("auto", "--mixed-precision", help="auto (bf16 on GPU), no, bf16, fp16."),
    threads: int | None = typer.Option(None, "--threads", help="CPU threads for torch."),
) -> None:
    """Train a director (decoder over frozen all-MiniLM-L6-v2 token features) with Accelerate.

    Defaults follow GenDoP: AdamW (0.9, 0.95), weight decay 0.01, cosine to a 0.1 floor per batch, no
    warm-up, gradient clipping 1.0, batch 16, bf16 on a GPU. Every epoch writes model.safetensors +
    config.json (loadable with `trajkit direct -c OUTPUT`), best/ and the optimiser state for --resume.
    With synthetic data, the held-out caption F-score is reported at the end (metrics.json).

    The embedded model was trained with:

        trajkit train director -o runs/embedded --synthetic 16000 --epochs 20 --batch-size 64 --threads 2
    """
    from pydantic import ValidationError as PydanticError

    from ..core.errors import describe_model_error

    try:
        import accelerate  # noqa: F401  (train_director trains with it)
        import transformers  # noqa: F401

        from ..director.train import TrainOptions, train_director
    except ImportError as exc:
        _missing_extra(exc)

    try:
        options = TrainOptions(output=output, data=data, caption_key=caption_key, preset=preset, epochs=epochs,
                               batch_size=batch_size, lr=lr, schedule_epochs=schedule_epochs, synthetic=synthetic,
                               held_out=held_out, hidden=hidden, layers=layers, heads=heads, poses=poses, seed=seed,
                               resume=resume, mixed_precision=mixed_precision, threads=threads)
    except PydanticError as exc:
        fail(describe_model_error(exc))
    try:
        metrics = train_director(options, log=lambda line: err.print(line, highlight=False), progress=True)
    except TrajkitError as exc:
        fail(str(exc))
    out.print(f"[green]trained[/] {output} — load it with: trajkit direct \"…\" -c {output}")
    if "held_out_caption_fscore" in metrics:
        print_json(metrics["held_out_caption_fscore"])


def tag_camera(
    camera_file: str = typer.Argument(..., help="Camera path file (any camera format), or example:camera."),
    camera: str | None = typer.Option(None, "--camera", help="Camera to take from a multi-camera file."),
    seed: int | None = typer.Option(None, "--seed", help="Vary the caption's phrasing (default: plain wording)."),
    as_json: bool = typer.Option(False, "--json", help="Print segments and caption as JSON."),
) -> None:
    """Tag a camera path with DataDoP's motion classes and write its caption.

    Per step the camera's own motion is classed (27 translations × 7 rotations); a mode filter and
    short-run removal leave at most 4 segments, exactly as GenDoP's dataset tagger. Thresholds are
    absolute (DataDoP units, 30 fps): paths at another scale tag differently.

    Example: trajkit tag ../shared/data/gendop/text_rgbd/case1_transforms_cleaning.json
    """
    from ..director.captions import caption
    from ..director.tagging import outline, tag

    try:
        path = load_typed(camera_file, CameraPath, "one camera path", camera=camera_hint(camera))
        segments = tag(path)
    except TrajkitError as exc:
        fail(str(exc))
    text = caption(segments, seed=seed)
    if as_json:
        print_json({"segments": [{"label": s.label, "name": s.name, "translation": s.translation,
                                   "rotation": s.rotation, "start": s.start, "end": s.end} for s in segments],
                     "caption": text, "outline": outline(segments).strip()})
        return
    out.print(f"{camera_file}: {path.num_frames} frames → {len(segments)} segments")
    table = Table()
    for col in ("steps", "label", "motion"):
        table.add_column(col)
    for s in segments:
        table.add_row(f"{s.start}–{s.end}", str(s.label), s.name)
    out.print(table)
    out.print(text)
