"""3DTrajMaster's 360°-Motion dataset files: entity trajectories, the 12-camera rig and auxiliary documents.

Formats registered here
-----------------------
* ``trajmaster-json`` (entities): the per-video trajectory ``<video_name>.json``,
  ``{"0": [{"index": int, "matrix": "<FMatrix>"}, ...], ..., "98": [...]}`` — one list per frame (keys
  ``0 … T−1``), one element per entity in the same order in every frame; ``index`` is a key into
  ``CharacterInfo.json``. 99 frames at 30 fps in the dataset.
* ``trajmaster-rig`` (camera): ``Hemi12_transforms.json``, ``{"C_01_35mm": "<FMatrix>", ...}``, the 12
  static cameras, already relative to the location's ``CameraTarget``.
* ``trajmaster-locations``, ``trajmaster-testsets``, ``trajmaster-characters``, ``prompt-list``
  (documents, read-only): ``location_data*.json``, ``test_sets.json``, ``CharacterInfo.json`` and the
  ``entity_zoo.txt`` / ``location_zoo.txt`` Python list literals (parsed with :func:`ast.literal_eval`,
  never executed).

World frame and conversion
--------------------------
``FMatrix`` strings are Unreal row-vector matrices in centimetres (rows: local forward, right, up axes,
then the translation) in Unreal's left-handed world (X forward, Y right, Z up). trajkit maps every
Unreal triple ``(X, Y, Z)`` to ``(Y, −Z, X) / 100`` metres, for points and local axes alike
(:func:`trajkit.core.conventions.unreal_to_opencv`), after subtracting the location's
``CameraTarget.position`` from entity translations (rig cameras are stored relative to it already). So
the trajkit world of a 360°-Motion video is right-handed, **centred on the CameraTarget**, with ``+y``
pointing down (Unreal −Z) and ``+z`` along Unreal +X; entity object axes are (right, down, forward) and
cameras use OpenCV axes. Entities float 1.47103 m above the target plane (``y ≈ −1.471``); the rig
cameras sit on it, 8 m from the target.

3DTrajMaster's conditioning uses its own camera space (right, up, forward), metres: OpenCV camera space
with y flipped. The ``(E, T, 4, 4)`` poses it feeds the model (before the 12-number flattening
``[R00, R10, R20, R01, R11, R21, R02, R12, R22, tx, ty, tz]``) are
``opencv_to_trajmaster_camera(entities.in_camera())``.

Intrinsics are not stored; the rig uses a 35 mm lens on a 23.76 mm wide sensor, so ``fx = fy =
35·W/23.76`` pixels (1060.606 at 720×480, 989.899 at 672×384) with the principal point at the centre.
:func:`latent_frame_indices` is 3DTrajMaster's rule mapping the 99 source frames to 13 latent poses.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core._validate import check_size
from ..core.camera import ROTATION_ATOL, CameraPath, intrinsics_matrix
from ..core.conventions import opencv_to_unreal, unreal_to_opencv
from ..core.entities import EntityPaths
from ..core.errors import FormatError, TrajkitError
from ..core.rotations import is_rotation_matrix
from ..core.timing import latent_frame_indices, video_frame_indices
from ._io import atomic_write_text, dump_json, file_fields, invalid_escape, read_json, read_text, require
from .documents import CameraSet, LocationData, PromptList, TrajMasterCase, TrajMasterTestSets
from .registry import Format, register
from .unreal import format_fmatrix, parse_fmatrix

__all__ = [
    "DEFAULT_CAMERA",
    "DEFAULT_SIZE",
    "FORMAT",
    "FORMAT_CHARACTERS",
    "FORMAT_LOCATIONS",
    "FORMAT_PROMPTS",
    "FORMAT_RIG",
    "FORMAT_TESTSETS",
    "FORMAT_TRAJECTORY",
    "FPS",
    "CharacterInfo",
    "latent_frame_indices",
    "read_character_info",
    "read_location_data",
    "read_prompt_list",
    "read_rig",
    "read_test_sets",
    "read_trajectory",
    "rig_intrinsics",
    "video_frame_indices",
    "write_rig",
    "write_trajectory",
]

#: Frame rate of the 360°-Motion renders (the trajectory files store none).
FPS = 30.0
#: Video size ``(W, H)`` of the 480×720 release; the rig intrinsics follow from it.
DEFAULT_SIZE = (720, 480)
#: Height (trajkit y) of the target plane entities walk on: their pivots float 1.47 m above it, so tracks made
#: from 360°-Motion entities follow the ground contact at this height unless told otherwise.
GROUND = 0.0
#: The rig camera 3DTrajMaster uses at inference (held out in training).
DEFAULT_CAMERA = 12
LENS_MM = 35.0
SENSOR_WIDTH_MM = 23.76
RIG_FILE = "Hemi12_transforms.json"
CHARACTER_FILE = "CharacterInfo.json"
LOCATION_GLOB = "location_data*.json"
#: How many parent folders above a trajectory file are searched for its sibling files.
SEARCH_PARENTS = 3
#: Prompt lists are small; a larger file is refused before it reaches the literal parser.
MAX_PROMPT_LIST_BYTES = 1024 * 1024
#: The dataset's files are 3–100 KB; these limits keep each reader within 4× its file + _io.JSON_ALLOWANCE.
MAX_TRAJECTORY_BYTES = 8 * 1024 * 1024
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024

_TRAJ = "trajmaster-json"
_RIG = "trajmaster-rig"
_LOC = "trajmaster-locations"
_TESTS = "trajmaster-testsets"
_CHARS = "trajmaster-characters"
_PROMPTS = "prompt-list"


# ---------------------------------------------------------------------------------------------- helpers
def rig_intrinsics(size: tuple[int, int] = DEFAULT_SIZE) -> np.ndarray:
    """``K`` (3, 3) in pixels of a ``size = (W, H)`` render: 35 mm lens, 23.76 mm sensor width.

    ``fx = fy = 35·W/23.76`` (square pixels), principal point at ``(W/2, H/2)``.
    """
    w, h = check_size(size, "trajmaster")  # type: ignore[misc]
    f = LENS_MM * w / SENSOR_WIDTH_MM
    return intrinsics_matrix(f, f, w / 2.0, h / 2.0)


def _search_dirs(path: Path) -> list[Path]:
    """The file's folder and up to :data:`SEARCH_PARENTS` parents, nearest first."""
    folder = path.resolve().parent
    return [folder, *list(folder.parents)[:SEARCH_PARENTS]]


def _find_named(path: Path, name: str) -> Path | None:
    for folder in _search_dirs(path):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _check_rotations(M: np.ndarray, path: Path, fmt: str, label: Any) -> None:
    """Unreal matrices ``(N, 4, 4)`` must hold proper rotations; ``label(i)`` names matrix ``i``."""
    ok = is_rotation_matrix(M[:, :3, :3], atol=ROTATION_ATOL)
    if not ok.all():
        i = int(np.argmin(ok))
        R = M[i, :3, :3]
        raise FormatError(path, fmt, f"{label(i)} is not a rotation", expected="orthonormal rows with det +1",
                          found=f"max |RRᵀ − I| = {np.abs(R @ R.T - np.eye(3)).max():.3g}, "
                                f"det = {np.linalg.det(R):.4g}")


def _head(head: bytes) -> bytes:
    return head[3:] if head.startswith(b"\xef\xbb\xbf") else head


# ---------------------------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class CharacterInfo:
    """``CharacterInfo.json``: the English description (``eng``) of each character ``index``."""

    texts: Mapping[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "texts", {int(k): str(v) for k, v in self.texts.items()})

    def __getitem__(self, index: int) -> str:
        return self.texts[int(index)]

    def __contains__(self, index: object) -> bool:
        return index in self.texts

    def __len__(self) -> int:
        return len(self.texts)

    def __iter__(self) -> Iterator[int]:
        return iter(self.texts)

    def get(self, index: int, default: str | None = None) -> str | None:
        """The text of ``index``, or ``default``."""
        return self.texts.get(int(index), default)


def read_location_data(path: str | Path) -> LocationData:
    """``location_data*.json`` → :class:`LocationData`: ``CameraTarget.position`` (Unreal cm, (3,)) per name.

    The file is a list of ``{"name": "locK", "coordinates": {"CameraTarget": {"position": [x, y, z]}, ...},
    "Height": "H10"}``; the other coordinates are not used by 3DTrajMaster and are not kept.
    """
    path = Path(path)
    data = read_json(path, _LOC, MAX_DOCUMENT_BYTES)
    require(isinstance(data, list) and len(data) > 0, path, _LOC, "top level must be a non-empty list",
            expected='[{"name": "loc1", "coordinates": {"CameraTarget": ...}}, ...]',
            found=type(data).__name__)
    targets: dict[str, np.ndarray] = {}
    heights: dict[str, str] = {}
    for i, item in enumerate(data):
        require(isinstance(item, dict) and isinstance(item.get("name"), str), path, _LOC,
                f"entry {i} has no string 'name'")
        name = item["name"]
        try:
            position = item["coordinates"]["CameraTarget"]["position"]
        except (KeyError, TypeError):
            raise FormatError(path, _LOC, f"entry {name!r} has no coordinates.CameraTarget.position",
                              expected="[x, y, z] in cm") from None
        targets[name] = _finite_vector(position, path, _LOC, f"{name}.CameraTarget.position")
        if isinstance(item.get("Height"), str):
            heights[name] = item["Height"]
    return LocationData(targets=targets, heights=heights)


def _finite_vector(value: Any, path: Path | None, fmt: str, what: str) -> np.ndarray:
    ok = isinstance(value, (list, tuple, np.ndarray)) and len(value) == 3
    ok = ok and all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in value)
    require(ok, path, fmt, f"{what} must be three numbers", expected="[x, y, z] in Unreal cm",
            found=repr(value)[:80])
    vec = np.asarray(value, dtype=np.float64)
    require(bool(np.isfinite(vec).all()), path, fmt, f"{what} is not finite", found=repr(value)[:80])
    return vec


def read_test_sets(path: str | Path) -> TrajMasterTestSets:
    """``test_sets.json``: ``{"0": {"video_name", "entity_prompts": [...], "loc_prompt"}, ...}`` in key order."""
    path = Path(path)
    data = read_json(path, _TESTS, MAX_DOCUMENT_BYTES)
    require(isinstance(data, dict) and len(data) > 0, path, _TESTS, "top level must be a non-empty object",
            expected='{"0": {"video_name": ..., "entity_prompts": [...], "loc_prompt": ...}}')
    cases = []
    for key in sorted(data, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k)):
        case = data[key]
        require(isinstance(case, dict), path, _TESTS, f"case {key!r} is not an object")
        video, prompts, loc = case.get("video_name"), case.get("entity_prompts"), case.get("loc_prompt")
        require(isinstance(video, str) and isinstance(loc, str), path, _TESTS,
                f"case {key!r} needs string 'video_name' and 'loc_prompt'")
        require(isinstance(prompts, list) and len(prompts) > 0 and all(isinstance(p, str) for p in prompts),
                path, _TESTS, f"case {key!r}: 'entity_prompts' must be a non-empty list of strings")
        cases.append(TrajMasterCase(key=key, video_name=video, entity_prompts=tuple(prompts), loc_prompt=loc))
    return TrajMasterTestSets(cases=tuple(cases))


def read_character_info(path: str | Path) -> CharacterInfo:
    """``CharacterInfo.json``: ``{"CharacterInfo": [{"index": int|str, "eng": text, ...}]}`` → texts by int index."""
    path = Path(path)
    data = read_json(path, _CHARS, MAX_DOCUMENT_BYTES)
    items = data.get("CharacterInfo") if isinstance(data, dict) else None
    require(isinstance(items, list), path, _CHARS, "no 'CharacterInfo' list",
            expected='{"CharacterInfo": [{"index": 0, "eng": "..."}, ...]}')
    texts: dict[int, str] = {}
    for i, item in enumerate(items):
        require(isinstance(item, dict) and isinstance(item.get("eng"), str), path, _CHARS,
                f"entry {i} has no string 'eng'")
        texts[_entity_index(item.get("index"), path, _CHARS, f"CharacterInfo[{i}].index")] = item["eng"]
    return CharacterInfo(texts=texts)


def read_prompt_list(path: str | Path) -> PromptList:
    """A ``.txt`` Python list literal of strings (single or double quotes, trailing comma allowed).

    Parsed with :func:`ast.literal_eval` only after checking it is a bracketed literal; nothing is ever
    evaluated as code, and files over :data:`MAX_PROMPT_LIST_BYTES` are refused.
    """
    path = Path(path)
    text = read_text(path, _PROMPTS, limit=MAX_PROMPT_LIST_BYTES).strip()
    expected = "a Python list literal of strings, e.g. ['park', 'desert']"
    require(text.startswith("[") and text.endswith("]"), path, _PROMPTS, "not a bracketed list",
            expected=expected, found=repr(text[:40]))
    bad = invalid_escape(text)
    require(bad is None, path, _PROMPTS, f"invalid escape {bad} in a string", expected="escapes Python defines "
            r"(\\, \', \n, \t, \xhh, \uhhhh …); write a backslash as \\", found=repr(bad))
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise FormatError(path, _PROMPTS, "not a literal list of strings", expected=expected,
                          found=f"{type(exc).__name__}: {str(exc)[:80]}") from None
    require(isinstance(value, list) and all(isinstance(s, str) for s in value), path, _PROMPTS,
            "the list must hold only strings", expected=expected)
    return PromptList(items=tuple(value))


# ---------------------------------------------------------------------------------------------- rig
def read_rig(path: str | Path, size: tuple[int, int] = DEFAULT_SIZE) -> CameraSet:
    """``Hemi12_transforms.json`` → :class:`CameraSet` of one-frame cameras named as in the file.

    Only keys containing ``"C_"`` are used, in file order (position k−1 holds ``C_k``). Poses are
    relative to the CameraTarget already (no offset), converted with ``unreal_to_opencv``; metric, 30 fps,
    ``K = rig_intrinsics(size)``.
    """
    path = Path(path)
    data = read_json(path, _RIG, MAX_DOCUMENT_BYTES)
    require(isinstance(data, dict), path, _RIG, "top level must be an object",
            expected='{"C_01_35mm": "[..] [..] [..] [..]", ...}', found=type(data).__name__)
    names = [k for k in data if "C_" in k]
    require(len(names) > 0, path, _RIG, "no camera keys", expected='keys like "C_01_35mm"',
            found=str(list(data)[:5]))
    M = np.stack([parse_fmatrix(data[n], path, _RIG, f"camera {n!r}") for n in names])
    _check_rotations(M, path, _RIG, lambda i: f"camera {names[i]!r}")
    c2w = unreal_to_opencv(M)
    K = rig_intrinsics(size)
    wh = check_size(size, "trajmaster")
    cams = {n: CameraPath(c2w=c2w[i][None], K=K, size=wh, fps=FPS, metric=True,
                          meta={"name": n, "lens_mm": LENS_MM, "source": str(path)})
            for i, n in enumerate(names)}
    return CameraSet(cameras=cams, meta={"source": str(path), "format": _RIG})


def _read_rig_format(path: Path, camera: int | str | None = None,
                     size: tuple[int, int] = DEFAULT_SIZE) -> CameraSet | CameraPath:
    rig = read_rig(path, size)
    if camera is None:
        return rig
    choice = _camera_choice(camera, path, _RIG)
    require(choice is not None, path, _RIG, "camera=none selects no camera from a rig",
            expected=f"a number 1..{len(rig.names)} or one of {rig.names}")
    assert choice is not None
    return _pick(rig, choice, path, _RIG)


def _camera_choice(camera: Any, path: Path, fmt: str) -> int | str | None:
    """A rig camera from a hint: ``1..N`` or a name; ``0`` / ``"none"`` means no camera (``None``)."""
    if isinstance(camera, bool):
        raise FormatError(path, fmt, "camera hint", expected="a number 1..12, a name like 'C_12_35mm' or 'none'",
                          found=repr(camera))
    if isinstance(camera, (int, np.integer)) or (isinstance(camera, str) and camera.strip().isdigit()):
        k = int(camera)
        return None if k == 0 else k
    if isinstance(camera, str):
        name = camera.strip()
        return None if name.lower() == "none" else name
    raise FormatError(path, fmt, "camera hint", expected="a number 1..12, a name like 'C_12_35mm' or 'none'",
                      found=repr(camera)[:40])


def write_rig(cameras: CameraSet, path: str | Path) -> None:
    """Write a :class:`CameraSet` of one-frame cameras as ``Hemi12_transforms.json`` (no intrinsics stored).

    Names must contain ``"C_"`` (the reader ignores other keys); poses are written relative to the
    CameraTarget, i.e. the trajkit world origin.
    """
    path = Path(path)
    out: dict[str, str] = {}
    for name, cam in cameras.cameras.items():
        require("C_" in name, path, _RIG, f"camera name {name!r} would be ignored by readers",
                expected='names containing "C_", e.g. "C_01_35mm"')
        require(cam.num_frames == 1, path, _RIG, f"camera {name!r} moves; the rig holds static cameras",
                expected="1 frame", found=f"{cam.num_frames} frames")
        out[name] = format_fmatrix(opencv_to_unreal(cam.c2w[0]))
    atomic_write_text(path, dump_json(out, indent=4))


# ---------------------------------------------------------------------------------------------- trajectory
def read_trajectory(
    path: str | Path,
    *,
    location_data: str | Path | None = None,
    location: str | None = None,
    offset_cm: Sequence[float] | None = None,
    rig: str | Path | None = None,
    camera: int | str | None = DEFAULT_CAMERA,
    character_info: str | Path | None = None,
    prompts: Sequence[str] | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
) -> EntityPaths:
    """A 360°-Motion ``<video_name>.json`` → :class:`EntityPaths` ``(E, T, 4, 4)`` at 30 fps, metres.

    Poses are ``unreal_to_opencv(M, offset_cm=CameraTarget)`` (see the module docstring). The target
    comes from ``offset_cm`` (Unreal cm), else from ``location_data`` (or the first
    ``location_data*.json`` holding the key found beside the file or up to 3 folders up) under
    ``location`` (default: field 2 of the file name, ``D_loc1_61_…`` → ``"loc1"``). ``camera`` picks a rig
    camera (1..12 or a name; 0/``"none"``: no camera) from ``rig`` or a ``Hemi12_transforms.json`` found
    the same way; with no rig file the result has no camera. Prompts: ``prompts``, else the ``eng``
    text of each entity's ``index`` in ``character_info`` / a found ``CharacterInfo.json``, else
    ``"entity <index>"``.
    """
    path = Path(path)
    data = read_json(path, _TRAJ, MAX_TRAJECTORY_BYTES)
    M, indices = _parse_frames(data, path)
    key = location if location is not None else _location_key(path)
    offset, loc_source = _resolve_offset(path, key, location_data, offset_cm)
    poses = unreal_to_opencv(M, offset_cm=offset)
    cam = _resolve_camera(path, rig, camera, size)
    texts, char_source = _resolve_prompts(path, indices, character_info, prompts)
    meta = {
        "format": _TRAJ, "video_name": path.stem, "location": key, "offset_cm": offset.tolist(),
        "indices": indices, "camera_name": None if cam is None else cam.meta.get("name"),
        "location_data": loc_source, "character_info": char_source,
        "rig": None if cam is None else cam.meta.get("source"),
    }
    return EntityPaths(poses=poses, prompts=texts, fps=FPS, camera=cam, meta=meta)


def _parse_frames(data: Any, path: Path) -> tuple[np.ndarray, list[int]]:
    """Unreal matrices ``(E, T, 4, 4)`` and the entity ``index`` list from the parsed JSON."""
    require(isinstance(data, dict) and len(data) > 0, path, _TRAJ, "top level must be a non-empty object",
            expected='{"0": [{"index": 0, "matrix": "[..] [..] [..] [..]"}, ...], "1": ...}',
            found=type(data).__name__)
    bad = [k for k in data if not (isinstance(k, str) and k.isascii() and k.isdigit())]
    require(not bad, path, _TRAJ, "frame keys must be integers", expected='"0", "1", ...', found=repr(bad[:3]))
    numbers = sorted(int(k) for k in data)
    require(numbers == list(range(len(numbers))), path, _TRAJ, "frame keys must run 0..T−1 without gaps",
            expected=f"0..{len(numbers) - 1}", found=_first_gap(numbers))
    by_number = {int(k): v for k, v in data.items()}
    indices: list[int] | None = None
    frames = []
    for t in numbers:
        entities = by_number[t]
        require(isinstance(entities, list) and len(entities) > 0, path, _TRAJ,
                f"frame {t} must be a non-empty list of entities", found=type(entities).__name__)
        if indices is not None:
            require(len(entities) == len(indices), path, _TRAJ, f"frame {t} has another entity count",
                    expected=f"{len(indices)} entities (as in frame 0)", found=str(len(entities)))
        matrices, frame_indices = _parse_frame(entities, t, path)
        if indices is None:
            indices = frame_indices
        require(frame_indices == indices, path, _TRAJ, f"frame {t} lists the entities in another order",
                expected=f"indices {indices} (as in frame 0)", found=str(frame_indices))
        frames.append(matrices)
    assert indices is not None
    M = np.stack(frames, axis=1)  # (E, T, 4, 4)
    T = M.shape[1]
    _check_rotations(M.reshape(-1, 4, 4), path, _TRAJ, lambda i: f"frame {i % T}, entity {i // T}")
    return M, indices


def _parse_frame(entities: list[Any], t: int, path: Path) -> tuple[np.ndarray, list[int]]:
    matrices, indices = [], []
    for e, item in enumerate(entities):
        where = f"frame {t}, entity {e}"
        require(isinstance(item, dict) and "matrix" in item, path, _TRAJ, f"{where} has no 'matrix'",
                expected='{"index": int, "matrix": "[..] [..] [..] [..]"}', found=repr(item)[:60])
        require("index" in item, path, _TRAJ, f"{where} has no 'index'", expected="an integer index")
        indices.append(_entity_index(item["index"], path, _TRAJ, f"{where} index"))
        matrices.append(parse_fmatrix(item["matrix"], path, _TRAJ, f"{where} matrix"))
    return np.stack(matrices), indices


def _first_gap(numbers: list[int]) -> str:
    missing = sorted(set(range(numbers[-1] + 1)) - set(numbers))
    return f"missing frame {missing[0]}" if missing else f"keys {numbers[:3]}…"


def _entity_index(value: Any, path: Path, fmt: str, what: str) -> int:
    """An integer index (ints, or strings of digits as CharacterInfo.json sometimes stores them)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise FormatError(path, fmt, f"{what} is not an integer", found=repr(value)[:40])


def _location_key(path: Path) -> str | None:
    """Field 2 of the video name split on ``_`` (``D_loc1_61_t3n13_003d_Hemi12_1`` → ``loc1``)."""
    parts = path.stem.split("_")
    return parts[1] if len(parts) > 1 else None


def _resolve_offset(path: Path, key: str | None, location_data: str | Path | None,
                    offset_cm: Sequence[float] | None) -> tuple[np.ndarray, str | None]:
    """CameraTarget position (Unreal cm) and where it came from."""
    if offset_cm is not None:
        return _finite_vector(list(offset_cm), path, _TRAJ, "offset_cm hint"), "offset_cm"
    how = ("pass location_data=<path to location_data.json> (and location='locK' if the file name does not "
           "hold it), or offset_cm=(x, y, z) with the CameraTarget position in Unreal cm")
    require(key is not None, path, _TRAJ, "no location key: the file name has no '_locK_' field",
            expected=how)
    assert key is not None
    if location_data is not None:
        table = read_location_data(Path(location_data))
        require(key in table.targets, Path(location_data), _LOC, f"location {key!r} is not listed",
                expected=f"one of {sorted(table.targets)}")
        return table.targets[key], str(location_data)
    for folder in _search_dirs(path):
        for candidate in sorted(folder.glob(LOCATION_GLOB)):
            try:
                table = read_location_data(candidate)
            except TrajkitError:
                continue  # an unrelated or broken file found by the search is not this file's problem
            if key in table.targets:
                return table.targets[key], str(candidate)
    raise FormatError(path, _TRAJ, f"the CameraTarget offset of location {key!r} is needed to centre the "
                      f"trajectory, but no {LOCATION_GLOB} holding it was found beside the file or up to "
                      f"{SEARCH_PARENTS} folders up", expected=how)


def _resolve_camera(path: Path, rig: str | Path | None, camera: int | str | None,
                    size: tuple[int, int]) -> CameraPath | None:
    choice = _camera_choice(DEFAULT_CAMERA if camera is None else camera, path, _TRAJ)
    if choice is None:
        return None
    rig_path = Path(rig) if rig is not None else _find_named(path, RIG_FILE)
    if rig_path is None:
        return None
    return _pick(read_rig(rig_path, size), choice, path, _TRAJ)


def _pick(rig: CameraSet, choice: int | str, path: Path, fmt: str) -> CameraPath:
    with file_fields(path, fmt, lambda _: f"camera hint {choice!r} names no rig camera"):
        return rig.get(choice)


def _resolve_prompts(path: Path, indices: list[int], character_info: str | Path | None,
                     prompts: Sequence[str] | None) -> tuple[list[str], str | None]:
    if prompts is not None:
        ok = not isinstance(prompts, str) and all(isinstance(p, str) for p in prompts)
        require(ok and len(prompts) == len(indices), path, _TRAJ, "prompts hint does not match the entities",
                expected=f"{len(indices)} strings, one per entity", found=repr(prompts)[:80])
        return list(prompts), "prompts"
    info_path = Path(character_info) if character_info is not None else _find_named(path, CHARACTER_FILE)
    info = read_character_info(info_path) if info_path is not None else CharacterInfo()
    texts = [(info.get(i) or f"entity {i}").strip() for i in indices]
    return texts, None if info_path is None else str(info_path)


def write_trajectory(entities: EntityPaths, path: str | Path, *, offset_cm: Sequence[float] | None = None,
                     indices: Sequence[int] | None = None) -> None:
    """Write :class:`EntityPaths` (30 fps) as a 360°-Motion trajectory JSON, one list per frame.

    Inverse of :func:`read_trajectory`: ``opencv_to_unreal(pose, offset_cm=...)`` with the offset from
    ``offset_cm``, else ``meta["offset_cm"]``, else (0, 0, 0); ``index`` from ``indices``, else
    ``meta["indices"]``, else 0, 1, 2, …. The camera and prompts are not stored (see ``trajmaster-rig``
    and ``CharacterInfo.json``).
    """
    path = Path(path)
    if abs(entities.fps - FPS) > 1e-6:
        raise FormatError(path, _TRAJ, "the 360°-Motion timeline is 30 fps; resample first",
                          expected="entities.resample(frames, fps=30)", found=f"{entities.fps:g} fps")
    meta = entities.meta
    offset = offset_cm if offset_cm is not None else meta.get("offset_cm", (0.0, 0.0, 0.0))
    offset_vec = _finite_vector(list(offset), path, _TRAJ, "offset_cm")
    E = entities.num_entities
    idx = indices if indices is not None else meta.get("indices")
    if idx is None or len(idx) != E:
        idx = list(range(E))
    idx = [_entity_index(i, path, _TRAJ, "entity index") for i in idx]
    M = opencv_to_unreal(entities.poses, offset_cm=offset_vec)
    out = {str(t): [{"index": idx[e], "matrix": format_fmatrix(M[e, t])} for e in range(E)]
           for t in range(entities.num_frames)}
    atomic_write_text(path, dump_json(out, indent=None))


# ---------------------------------------------------------------------------------------------- sniffers
_TRAJ_START = re.compile(rb'\A\s*\{\s*"\d+"\s*:\s*\[\s*\{')
_TRAJ_MATRIX = re.compile(rb'"matrix"\s*:\s*"\s*\[')
_RIG_START = re.compile(rb'\A\s*\{\s*"[^"]*C_[^"]*"\s*:\s*"\s*\[')
_OBJECT = re.compile(rb"\A\s*\{")
_LIST = re.compile(rb"\A\s*\[")
_CHARS_START = re.compile(rb'\A\s*\{\s*"CharacterInfo"\s*:\s*\[')
_PROMPTS_START = re.compile(rb"\A\s*\[\s*(['\"]|\])")


def _sniff_trajectory(path: Path, head: bytes) -> bool:
    h = _head(head)
    return bool(_TRAJ_START.match(h) and _TRAJ_MATRIX.search(h[:4096]) and b'"index"' in h[:4096])


def _sniff_rig(path: Path, head: bytes) -> bool:
    return bool(_RIG_START.match(_head(head)))


def _sniff_locations(path: Path, head: bytes) -> bool:
    h = _head(head)
    return bool(_LIST.match(h)) and b'"CameraTarget"' in h and b'"coordinates"' in h


def _sniff_test_sets(path: Path, head: bytes) -> bool:
    h = _head(head)
    return bool(_OBJECT.match(h)) and b'"entity_prompts"' in h and b'"video_name"' in h


def _sniff_characters(path: Path, head: bytes) -> bool:
    return bool(_CHARS_START.match(_head(head)))


def _sniff_prompt_list(path: Path, head: bytes) -> bool:
    return path.suffix.lower() == ".txt" and bool(_PROMPTS_START.match(_head(head)))


# ---------------------------------------------------------------------------------------------- registry
FORMAT_TRAJECTORY = register(Format(
    name=_TRAJ,
    title="3DTrajMaster 360°-Motion trajectory JSON",
    kind="entities",
    extensions=(".json",),
    sniff=_sniff_trajectory,
    read=read_trajectory,
    write=write_trajectory,
    writes=(EntityPaths,),
    hints=("location_data", "location", "offset_cm", "rig", "camera", "character_info", "prompts", "size"),
    fps=FPS,
    notes="Unreal FMatrix per entity and frame (absolute cm); trajkit world = (Y, −Z, X)/100 m "
          "about the location's CameraTarget (location_data*.json, found beside the file or via "
          "location_data=/offset_cm=). Camera: rig camera 12 of Hemi12_transforms.json when found.",
))
FORMAT = FORMAT_TRAJECTORY

FORMAT_RIG = register(Format(
    name=_RIG,
    title="3DTrajMaster Hemi12 camera rig",
    kind="camera",
    extensions=(".json",),
    sniff=_sniff_rig,
    read=_read_rig_format,
    write=write_rig,
    writes=(CameraSet,),
    hints=("camera", "size"),
    fps=FPS,
    notes="12 static cameras 8 m around the CameraTarget, 35 mm lens on a 23.76 mm sensor "
          "(fx = 35·W/23.76 px). Returns a CameraSet, or one CameraPath with camera=1..12 or a name.",
))

FORMAT_LOCATIONS = register(Format(
    name=_LOC, title="3DTrajMaster location_data.json", kind="document", extensions=(".json",),
    sniff=_sniff_locations, read=read_location_data,
    notes="CameraTarget position (Unreal cm) and Height per location key.",
))

FORMAT_TESTSETS = register(Format(
    name=_TESTS, title="3DTrajMaster test_sets.json", kind="document", extensions=(".json",),
    sniff=_sniff_test_sets, read=read_test_sets,
    notes="Inference cases: video name, 1–3 entity prompts, location prompt.",
))

FORMAT_CHARACTERS = register(Format(
    name=_CHARS, title="3DTrajMaster CharacterInfo.json", kind="document", extensions=(".json",),
    sniff=_sniff_characters, read=read_character_info,
    notes="English description (eng) per character index.",
))

FORMAT_PROMPTS = register(Format(
    name=_PROMPTS, title="Prompt list (Python list literal)", kind="document", extensions=(".txt",),
    sniff=_sniff_prompt_list, read=read_prompt_list,
    notes="entity_zoo.txt / location_zoo.txt; parsed as a literal, never executed.",
))
