"""``trajkit evaluate director``: GenDoP's four metrics for a director (caption F-score, CLaTr score, FCD, coverage)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ..core.errors import TrajkitError
from ._common import err, fail, out, print_json

#: The held-out synthetic seed (the embedded director trained on seed 0; benchmarks/director_quality.py uses it too).
HELD_OUT_SEED = 20261121


def evaluate_director(
    data: str = typer.Argument("synthetic", help="`synthetic` (held-out synthetic shots with their captions) or a "
                               "DataDoP folder (*_transforms_cleaning.json with *_caption.json, or train/test "
                               "listings)."),
    clatr: Path = typer.Option(..., "--clatr", help="CLaTr checkpoint: GenDoP's epoch99_motion.ckpt (Movement "
                               "captions) or epoch99_directorial.ckpt (Concise Interaction), or a trajkit "
                               ".safetensors; read without running pickled code."),
    clip: str = typer.Option("openai/clip-vit-base-patch32", "--clip", help="CLIP ViT-B/32 text model the CLaTr "
                             "reads: a local folder, or a Hugging Face id already in the cache."),
    download: bool = typer.Option(False, "--download", help="Allow downloading the CLIP text model."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", "-c", help="The director (default: the embedded "
                                           "one; a GenDoP text_*.safetensors needs --tokenizer)."),
    tokenizer: Path | None = typer.Option(None, "--tokenizer", help="GenDoP directors: SD-2.1's CLIP tokenizer."),
    caption_key: str = typer.Option("Movement", "--caption-key", help="DataDoP caption: Movement or "
                                    "'Concise Interaction' (match the CLaTr checkpoint)."),
    count: int = typer.Option(100, "--count", min=20, help="Shots to evaluate (PRDC needs ≥ 20: 5 chunks of ≥ 4)."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed (directors and CLaTr's latent draws)."),
    greedy: bool = typer.Option(False, "--greedy", help="The director's most likely path (default: GenDoP's top-k)."),
    clatr_heads: int = typer.Option(4, "--clatr-heads", min=1, help="Attention heads of a .ckpt CLaTr (released: 4)."),
    sample_mean: bool = typer.Option(False, "--sample-mean", help="Use latent means (DIRECTOR) instead of random "
                                     "draws (GenDoP's evaluation)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Score a director with GenDoP's evaluation: each caption → one camera path; CLaTr embeds captions, generated
    and reference paths; reports caption F-score (tags of the generated vs reference paths), CLaTr score (text ↔
    generated), FCD and coverage (generated vs reference).

    Examples:

        trajkit evaluate director synthetic --clatr CLaTr_checkpoints/epoch99_motion.ckpt --clip clip-vit-b32

        trajkit evaluate director DataDoP/test --clatr epoch99_directorial.ckpt --caption-key "Concise Interaction"
    """
    from ..director.data import datadop_folder, synthetic_set
    from ..director.pipeline import GREEDY, DirectorPipeline
    from ..director.sampling import SamplingOptions
    from ..evaluate.clatr import ClipText, evaluate_director, load_clatr

    try:
        shots = (synthetic_set(count, HELD_OUT_SEED) if data == "synthetic"
                 else datadop_folder(data, caption_key, log=lambda line: err.print(line, markup=False)))
        captions, references = shots.captions[:count], shots.cameras[:count]
        if len(captions) < 20:
            fail(f"{data}: {len(captions)} shots; GenDoP's coverage needs at least 20 (5 chunks of ≥ 4)")
        model = load_clatr(clatr, heads=clatr_heads, text_features=None)
        text = ClipText(clip, download=download)
        pipe = DirectorPipeline.load(checkpoint, tokenizer=tokenizer)
        options = GREEDY if greedy else SamplingOptions()
        generated = pipe(captions, num=1, seed=seed, options=options, frames=references[0].num_frames,
                         fps=references[0].fps)
        metrics = evaluate_director(captions, generated, references, model=model, text_encoder=text,
                                    sample_mean=sample_mean, seed=seed)
    except TrajkitError as exc:
        fail(str(exc))
    result = {"data": data, "director": pipe.source, "clatr": str(clatr), "caption_key": caption_key, **metrics}
    if as_json:
        print_json(result)
        return
    table = Table(title=f"GenDoP metrics: {pipe.source} on {data} ({len(captions)} shots)", title_justify="left")
    for column in ("caption F-score", "CLaTr score", "FCD", "coverage"):
        table.add_column(column, justify="right")
    table.add_row(*(f"{metrics[k]:.4g}" for k in ("caption_fscore", "clatr_score", "fcd", "coverage")))
    out.print(table)
