"""``report.html``: one self-contained page per job showing the input, controls, video, overlay and plots.

The page references the files beside it (relative paths), so the folder can be moved or served as is.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ..formats._io import atomic_write_text

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;background:#fafafa;color:#222}
h1{font-size:20px;margin:0 0 4px} .sub{color:#666;margin-bottom:16px}
.grid{display:flex;flex-wrap:wrap;gap:16px} figure{margin:0;background:#fff;border:1px solid #ddd;padding:8px}
figcaption{font-size:13px;color:#555;margin-top:4px} video,img{max-width:640px;display:block}
table{border-collapse:collapse;font-size:13px;margin-top:16px}
td{border:1px solid #ddd;padding:4px 8px;vertical-align:top}
"""


# A playback read-out under the result video (also lets a headless browser check that it really plays).
_PLAYBACK = """<div class="sub" id="playback">not started</div><script>
const v = document.getElementById('video'), s = document.getElementById('playback');
const show = () => { s.textContent = (v.error ? 'error ' + v.error.code : (v.paused ? 'paused ' : 'playing ')
  + v.currentTime.toFixed(2) + ' s / ' + (v.duration || 0).toFixed(2) + ' s'); };
['timeupdate', 'play', 'pause', 'error', 'loadedmetadata'].forEach(e => v.addEventListener(e, show));
</script>"""


def _figure(tag: str, caption: str) -> str:
    return f"<figure>{tag}<figcaption>{html.escape(caption)}</figcaption></figure>"


def write_report(folder: Path, record: dict[str, Any]) -> Path:
    """Write ``folder/report.html`` for a finished job record (see ``job.json``)."""
    res = record["resolved"]
    spec = record["spec"]
    items = [_figure('<video id="video" src="video.mp4" controls autoplay muted loop playsinline></video>',
                     f"result — {res['backend']} backend, {res['frames']} frames at {res['fps']:g} fps, "
                     f"{res['size'][0]}×{res['size'][1]}") + _PLAYBACK]
    if (folder / "mask.mp4").exists():
        items.append(_figure('<video src="mask.mp4" controls autoplay muted loop playsinline></video>',
                             "valid pixels: white = moved first-frame content, black = filled in"))
    if (folder / "overlay.mp4").exists():
        items.append(_figure('<video src="overlay.mp4" controls autoplay muted loop playsinline></video>',
                             f"tracks on the result ({res['tracks']} tracks)"))
    items.append(_figure('<img src="input.jpg" alt="input with tracks">', "input with the tracks (green → red)"))
    if (folder / "camera.png").exists():
        items.append(_figure('<img src="camera.png" alt="camera three views">', "camera path: front, top, side"))
    if (folder / "entities.png").exists():
        items.append(_figure('<img src="entities.png" alt="entities from above">', "entities from above"))
    model_prompt = (record.get("backend_info") or {}).get("prompt")
    rows = [("prompt", model_prompt or spec.get("prompt") or "—"), ("image", record.get("image") or "—"),
            ("seed", res["seed"]), ("notes", "; ".join(record["notes"]) or "—"),
            ("versions", ", ".join(f"{k} {v}" for k, v in record["versions"].items())),
            ("timings", ", ".join(f"{k} {v} s" for k, v in record["timings_s"].items()))]
    ref = record.get("reference")
    if ref:
        figures = (f"error: {ref['error']}" if "error" in ref else
                   f"PSNR {ref['psnr_mean']:.2f} dB mean ({ref['psnr_min']:.2f} min), SSIM {ref['ssim_mean']:.4f} mean "
                   f"({ref['ssim_min']:.4f} min) against {ref['source']}")
        rows.insert(0, ("against the truth", figures))
    table = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(record['name'])} — "
            f"trajkit</title><style>{_STYLE}</style></head><body><h1>{html.escape(record['name'])}</h1>"
            f"<div class='sub'>trajkit job report · controls in <code>controls/</code> · "
            f"<a href='job.json'>job.json</a></div><div class='grid'>{''.join(items)}</div>"
            f"<table>{table}</table>{_metrics_section(folder)}</body></html>\n")
    return atomic_write_text(folder / "report.html", page)


def _fmt(value: Any, unit: str = "", digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def _metrics_section(folder: Path) -> str:
    """The ``trajkit evaluate`` section, from ``metrics.json`` when the job has been evaluated."""
    import json

    path = folder / "metrics.json"
    if not path.is_file():
        return ""
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "<h2>Measured motion</h2><p>metrics.json is unreadable; run trajkit evaluate again.</p>"
    items = []
    if (folder / "evaluation.mp4").exists():
        items.append(_figure('<video src="evaluation.mp4" controls autoplay muted loop playsinline></video>',
                             "requested (green ring) vs measured (dot: white within 4 px, red beyond, grey hidden)"))
    if (folder / "epe.png").exists():
        items.append(_figure('<img src="epe.png" alt="end-point error over time">', "end-point error over time"))
    if (folder / "camera_eval.png").exists():
        items.append(_figure('<img src="camera_eval.png" alt="camera requested vs estimated">',
                             "camera: requested (blue) vs estimated from the video (orange, scaled)"))
    rows: list[tuple[str, str]] = []
    tr = m.get("tracks")
    if tr:
        rows.append(("tracks", f"{tr['measured']} measured with {m.get('tracker')} ({tr['skipped']} never in frame)"))
        rows.append(("end-point error", f"{_fmt(tr['epe_px'], ' px')} mean, {_fmt(tr['epe_median_px'], ' px')} median "
                                        f"({_fmt(tr['epe_pct_diagonal'], ' %', 3)} of the diagonal)"))
        rows.append(("δ-accuracy", ", ".join(f"{k} px {v:.3f}" for k, v in tr["delta"].items())
                     + f"; average {tr['delta_avg']:.3f}"))
        rows.append(("occlusion accuracy / AJ", f"{tr['occlusion_accuracy']:.3f} / {tr['average_jaccard']:.3f}"))
        for g in tr.get("groups", []):
            figures = g.get("error") or (f"EPE {_fmt(g.get('epe_px'), ' px')}, δ-avg {_fmt(g.get('delta_avg'), '', 3)}"
                                         if "epe_px" in g else "not measured")
            rows.append((f"· {g['name']}", f"{g['measured']}/{g['tracks']} tracks: {figures}"))
        for e in tr.get("entities", []):
            rows.append((f"· {e['name']} path", e.get("error") or f"{_fmt(e.get('path_error_px'), ' px')} mean "
                         f"(max {_fmt(e.get('path_error_max_px'), ' px')}), "
                         f"{'adherent' if e.get('adherent') else 'off its path'}"))
    cam = m.get("camera")
    if cam:
        if "error" in cam:
            rows.append(("camera", f"not estimated: {cam['error']}"))
        else:
            rows.append(("camera", f"RotErr {_fmt(cam.get('rot_err_deg'), '°')} total, "
                                   f"{_fmt(cam.get('rot_err_deg_per_frame'), '°', 3)} per frame; "
                                   f"TransErr {_fmt(cam.get('trans_err'), '', 3)}; "
                                   f"CamMC {_fmt(cam.get('cam_mc'), '', 3)} ({cam.get('method')}, "
                                   f"{cam.get('registered_frames')}/{m.get('frames')} frames registered"
                                   + (", the others held at the last pose" if cam.get("unregistered_frames") else "")
                                   + ")"))
    table = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return (f"<h2 style='font-size:17px;margin-top:28px'>Measured motion</h2><div class='sub'>trajkit evaluate · "
            f"<a href='metrics.json'>metrics.json</a></div><div class='grid'>{''.join(items)}</div>"
            f"<table>{table}</table>")
