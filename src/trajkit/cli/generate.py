"""``trajkit generate`` (render a job file) and ``trajkit demo`` (a scene made from code, rendered end to end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..core.errors import TrajkitError
from ._common import err, fail, out, parse_size, print_json, progress_bar


def _run_job_file(job_file: Path, out_dir: Path, backend: str | None, as_json: bool, quiet: bool,
                  overrides: dict[str, Any] | None = None, options: dict[str, Any] | None = None,
                  dataset: Path | None = None, ids: list[str] | None = None,
                  evaluate_with: str | None = None) -> None:
    from ..jobs import load_jobs, run_jobs, summary
    from ..jobs.spec import override_jobs

    try:
        specs = override_jobs(load_jobs(job_file, dataset=dataset, ids=ids), overrides or {}, options or {})
        bar = progress_bar(quiet or as_json)
        tasks: dict[str, Any] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done)

        evaluations: list[dict[str, Any]] = []

        def on_result(r: Any) -> None:
            if not (quiet or as_json):
                colour = {"done": "green", "skipped": "cyan", "failed": "red"}[r.status]
                bar.console.print(f"[{colour}]{r.status}[/] {r.name}" + (f": {r.error}" if r.error else "")
                                  + (f" ({r.note})" if r.note else ""), highlight=False)
            if evaluate_with is not None and r.status == "done" and r.folder is not None:
                from ._evaluation import evaluate_one

                evaluations.append(evaluate_one(r.folder, evaluate_with, progress))

        with bar:
            results = run_jobs(specs, job_file.resolve().parent, out_dir, backend=backend, progress=progress,
                               on_result=on_result)
    except TrajkitError as exc:
        fail(str(exc))
    report = summary(results)
    if evaluate_with is not None:
        report["evaluation"] = evaluations
    if as_json:
        print_json(report)
    elif not quiet:
        out.print(f"{report['done']} rendered, {report['skipped']} skipped, {report['failed']} failed → {out_dir}")
        for job in report["jobs"]:
            if job["folder"]:
                out.print(f"  report: {Path(job['folder']) / 'report.html'}")
    if evaluate_with is not None and evaluations and not as_json and not quiet:
        from ._evaluation import print_table

        print_table(evaluations)
    if report["failed"] or any(e["status"] != "ok" for e in report.get("evaluation", [])):
        raise typer.Exit(1)


def _parse_set(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are read as YAML (numbers, booleans, lists) and otherwise kept as text."""
    import yaml

    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--set expects KEY=VALUE, got {item!r}")
        try:
            options[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            options[key.strip()] = value
    return options


def generate(
    job_file: Path = typer.Argument(..., help="Job file (YAML/JSON: one job, a list, or ATI's test.yaml)."),
    output: Path = typer.Option(Path("outputs"), "--output", "-o", help="Folder for the job folders."),
    backend: str | None = typer.Option(None, "--backend",
                                       help="Override the jobs' backend: preview, wan-ati or cogvideox-3dtrajmaster."),
    frames: int | None = typer.Option(None, "--frames",
                                      help="Override frames per video (4k+1; Wan 81, CogVideoX 49 by default)."),
    fps: float | None = typer.Option(None, "--fps", help="Override the output frame rate."),
    size: str | None = typer.Option(None, "--size", help="Override the size: WIDTHxHEIGHT or 'auto' (ATI's rule)."),
    seed: int | None = typer.Option(None, "--seed", help="Override the seed."),
    base: str | None = typer.Option(None, "--base", rich_help_panel="Model",
                                    help="Diffusers base folder or HF repo id (Wan2.1 I2V / CogVideoX-5B)."),
    transformer: str | None = typer.Option(None, "--transformer", rich_help_panel="Model",
                                           help="[wan-ati] ATI transformer .safetensors file or folder."),
    injector: str | None = typer.Option(None, "--injector", rich_help_panel="Model",
                                        help="[cogvideox-3dtrajmaster] 3DTrajMaster injector folder or .safetensors."),
    lora: str | None = typer.Option(None, "--lora", rich_help_panel="Model",
                                    help="[cogvideox-3dtrajmaster] 3DTrajMaster's LoRA file or folder."),
    download: bool = typer.Option(False, "--download", rich_help_panel="Model",
                                  help="Allow downloading a missing base from the Hugging Face Hub."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps (wan-ati 40, CogVideoX 50).",
                                     rich_help_panel="Sampling"),
    guidance: float | None = typer.Option(None, "--guidance", help="CFG scale (wan-ati 5.0, CogVideoX 6).",
                                          rich_help_panel="Sampling"),
    window: str | None = typer.Option(None, "--window", rich_help_panel="Sampling",
                                      help="[wan-ati] START,END fractions of the steps that use the tracks (0,1)."),
    injector_steps: int | None = typer.Option(None, "--injector-steps", rich_help_panel="Sampling",
                                              help="[cogvideox-3dtrajmaster] Steps with injector + LoRA, then the "
                                                   "plain base (21 = 3DTrajMaster's annealed step 20)."),
    lora_scale: float | None = typer.Option(None, "--lora-scale", rich_help_panel="Sampling",
                                            help="[cogvideox-3dtrajmaster] LoRA weight (0.6)."),
    location: str | None = typer.Option(None, "--location", rich_help_panel="Sampling",
                                        help="[cogvideox-3dtrajmaster] Scene location for the prompt (e.g. desert)."),
    dtype: str | None = typer.Option(None, "--dtype", help="auto, bf16, fp16 or fp32.", rich_help_panel="Memory"),
    device: str | None = typer.Option(None, "--device", help="auto, cuda, cuda:1, cpu …", rich_help_panel="Memory"),
    offload: str | None = typer.Option(None, "--offload", rich_help_panel="Memory",
                                       help="none, model, group or sequential CPU offloading."),
    vae_tiling: bool = typer.Option(False, "--vae-tiling", help="Tiled VAE encode/decode.",
                                    rich_help_panel="Memory"),
    set_options: list[str] = typer.Option([], "--set", help="Any backend option as KEY=VALUE (repeatable)."),
    dataset: Path | None = typer.Option(None, "--dataset", rich_help_panel="3DTrajMaster test sets",
                                        help="360°-Motion folder holding the videos a test_sets.json names."),
    ids: str | None = typer.Option(None, "--ids", rich_help_panel="3DTrajMaster test sets",
                                   help="Comma-separated test_sets.json case keys to run (default all)."),
    evaluate: bool = typer.Option(False, "--evaluate", help="Measure each finished video against its controls "
                                  "(as `trajkit evaluate`): metrics.json and a section in report.html."),
    tracker: str = typer.Option("lk", "--tracker", help="Point tracker for --evaluate: lk, cotracker3, "
                                "cotracker3-online."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or messages."),
) -> None:
    """Render every job of a job file: one folder per job with video, overlay, plots, controls and report.

    Finished jobs are skipped when nothing about them changed; a job whose options or inputs changed since
    (other --frames, --seed, --set, an edited image or tracks file) is rendered again, and the run says what
    changed. A failing job is recorded in
    OUT/NAME.failed.json and the others continue. Inputs are checked before any rendering starts.
    Flags override every job's own values.

    Backends: preview (CPU animatic, default), wan-ati (Wan2.1-I2V-14B + ATI's motion patch) and
    cogvideox-3dtrajmaster (CogVideoX-5B + 3DTrajMaster's injector and LoRA; 1–3 entities with prompts). The
    model backends need the weights on disk: the README's "Wan2.1 + ATI" and "CogVideoX + 3DTrajMaster"
    sections give the download commands. Nothing is downloaded unless you pass --download.
    3DTrajMaster's test_sets.json runs as a job file with --dataset (the 360°-Motion folder).

    Examples:

        trajkit generate ../shared/data/ati/test.yaml --backend preview

        trajkit generate ../shared/data/ati/test.yaml --backend wan-ati --base models/wan21-i2v-480p
        --transformer models/ati --offload model

        trajkit generate my_job.yaml -o renders --backend wan-ati --window 0,0.6 --set topk=3

        trajkit generate test_sets.json --dataset 360Motion-Dataset/480_720 --ids 0,10,20
        --base models/cogvideox-5b --injector models/3dtrajmaster/injector --lora models/3dtrajmaster/lora
    """
    overrides: dict[str, Any] = {}
    if frames is not None:
        overrides["frames"] = frames
    if fps is not None:
        overrides["fps"] = fps
    if size is not None:
        overrides["size"] = "auto" if size == "auto" else parse_size(size, "--size")
    if seed is not None:
        overrides["seed"] = seed
    options = _parse_set(set_options)
    if window is not None:
        try:
            options["window"] = [float(v) for v in window.split(",")]
        except ValueError:
            fail(f"--window expects START,END fractions, e.g. 0,0.5; got {window!r}")
    for key, value in (("base", base), ("transformer", transformer), ("injector", injector), ("lora", lora),
                       ("steps", steps), ("guidance", guidance), ("injector_steps", injector_steps),
                       ("lora_scale", lora_scale), ("location", location), ("dtype", dtype), ("device", device),
                       ("offload", offload)):
        if value is not None:
            options[key] = value
    if download:
        options["download"] = True
    if vae_tiling:
        options["vae_tiling"] = True
    id_list = [i.strip() for i in ids.split(",") if i.strip()] if ids is not None else None
    if evaluate:
        from ..measure.trackers import TRACKERS

        if tracker not in TRACKERS:
            fail(f"--tracker: unknown tracker {tracker!r}; choose one of {', '.join(TRACKERS)}")
    _run_job_file(job_file, output, backend, as_json, quiet, overrides, options, dataset, id_list,
                  evaluate_with=tracker if evaluate else None)


def demo(
    output: Path = typer.Option(Path("outputs/demo"), "--output", "-o", help="Where to write the demo."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Make a scene from code, author a camera move and an object track, render a preview and a report;
    then let the embedded director write a camera move from a sentence for the same scene.

    Needs nothing downloaded. Writes OUT/inputs (scene, depth, tracks, job file), OUT/demo and
    OUT/demo-director (job folders); open OUT/demo/report.html in a browser. The director step needs
    `pip install 'trajkit[director]'` and is left out (with a note) without it.
    """
    from ..jobs.demo import director_available, write_demo_inputs

    job_file = write_demo_inputs(output / "inputs")
    if not director_available():
        err.print("note: the text-to-camera step is left out; pip install 'trajkit[director]' to add it", markup=False)
    _run_job_file(job_file, output, None, as_json, False)
    if not as_json:
        out.print(f"measure the motion in them: trajkit evaluate {output}/*")
