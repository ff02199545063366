"""3DTrajMaster's ``test_sets.json`` as a job list: each case renders its 360°-Motion trajectory with its entity
prompts and location on the ``cogvideox-3dtrajmaster`` backend.

A case names a video (``D_loc1_61_t3n13_003d_Hemi12_1``); its trajectory ``<video_name>.json`` is looked up under the
dataset folder (``<dataset>/<video_name>/<video_name>.json``, ``<dataset>/Desert/<video_name>/…``, else anywhere
below), with ``location_data.json`` and ``Hemi12_transforms.json`` found beside it or up to three folders up, as
the dataset ships them. A case whose trajectory is missing is an error naming the case, not a silent skip.
Job names follow the case: ``<key>_<video_name>``; the seed is the README's 24.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..backends.cogvideox_trajmaster import CogVideoXTrajMasterBackend
from ..core.errors import TrajkitError

BACKEND = CogVideoXTrajMasterBackend.name
README_SEED = 24


def is_test_sets(doc: Any) -> bool:
    """Whether a parsed document looks like 3DTrajMaster's ``test_sets.json``."""
    return (isinstance(doc, dict) and bool(doc) and all(isinstance(k, str) and k.isdigit() for k in doc)
            and all(isinstance(v, dict) and "video_name" in v and "entity_prompts" in v for v in doc.values()))


def _find_trajectories(dataset: Path, names: set[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name in names:
        for candidate in (dataset / name / f"{name}.json", dataset / "Desert" / name / f"{name}.json",
                          dataset / "HDRI" / name / f"{name}.json", dataset / f"{name}.json"):
            if candidate.is_file():
                found[name] = candidate
                break
    missing = names - set(found)
    if missing:
        for path in dataset.rglob("*.json"):
            if path.stem in missing and path.stem not in found:
                found[path.stem] = path
                if len(found) == len(names):
                    break
    return found


def jobs_from_test_sets(path: str | Path, dataset: str | Path | None, ids: Sequence[str] | None = None
                        ) -> list[dict[str, Any]]:
    """Job documents for the cases of a ``test_sets.json`` (all, or those in ``ids``)."""
    from ..formats.trajmaster import read_test_sets

    sets = read_test_sets(path)
    if dataset is None:
        raise TrajkitError(f"{path}: a 3DTrajMaster test set names dataset videos; give the 360°-Motion folder "
                           "with --dataset (e.g. 360Motion-Dataset/480_720)")
    root = Path(dataset).expanduser()
    if not root.is_dir():
        raise TrajkitError(f"--dataset: {root} is not a folder")
    cases = list(sets.cases)
    if ids is not None:
        known = {c.key for c in cases}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise TrajkitError(f"--ids: {path} has no cases {unknown} (it has {min(known, key=int)}…"
                               f"{max(known, key=int)})")
        cases = [c for c in cases if c.key in set(ids)]
    found = _find_trajectories(root, {c.video_name for c in cases})
    missing = [f"case {c.key} ({c.video_name})" for c in cases if c.video_name not in found]
    if missing:
        raise TrajkitError(f"{path}: no trajectory file under {root} for {', '.join(missing[:5])}"
                           + (" …" if len(missing) > 5 else ""))
    return [{"name": f"{c.key}_{c.video_name}",
             "entities": {"file": str(found[c.video_name].resolve()), "prompts": list(c.entity_prompts)},
             "backend": BACKEND, "seed": README_SEED, "options": {"location": c.loc_prompt}} for c in cases]
