"""Studio exports and imports, through trajkit's own writers and safe readers.

Exports (tracks on the original image, the document's timeline unless the format fixes one):

* ``trajkit-json``: native tracks document;
* ``ati-pth``: ATI's track file (121 frames at 24 fps, the whole motion fitted onto them);
* ``ati-examples``: a zip ATI's ``generate.py`` reads: ``test.yaml`` + ``images/`` + ``tracks/``;
* ``comfyui-json``: KJNodes / WanVideoATITracks point lists;
* ``wanmove``: a zip of Wan-Move's ``tracks.npy`` + ``visibility.npy``;
* ``job``: a zip with a trajkit job file, the image and the tracks (``trajkit generate job.yaml``).

Imports read a track file with the format registry (ATI ``.pth`` through the restricted unpickler, JSON, ``.npy``
without pickles) onto the image's canvas and add its tracks to the document as ``sampled`` tracks. Only the
self-contained track formats of :data:`IMPORT_FORMATS` are read — given or sniffed — so a client file can never make
the server open other paths (ATI's examples YAML names image files, for one). The zip exports import back too: the
tracks member is copied out under a fixed name (never a name from the archive), with limits on member count and
sizes.
"""

from __future__ import annotations

import io
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any, Literal, get_args

from ..core.errors import TrajkitError
from ..core.tracks import Tracks
from .document import MAX_TRACKS, Document, SampledTrack, document_tracks, parse_document
from .workspace import Project, StudioError

ExportFormat = Literal["trajkit-json", "ati-pth", "ati-examples", "comfyui-json", "wanmove", "job"]
#: Export format → (file name, media type); its keys are :data:`ExportFormat`.
EXPORTS: dict[ExportFormat, tuple[str, str]] = {
    "trajkit-json": ("tracks.json", "application/json"),
    "ati-pth": ("tracks.pth", "application/octet-stream"),
    "ati-examples": ("ati_examples.zip", "application/zip"),
    "comfyui-json": ("tracks_comfyui.json", "application/json"),
    "wanmove": ("wanmove_tracks.zip", "application/zip"),
    "job": ("trajkit_job.zip", "application/zip"),
}
#: Track formats an import may be read as (registry names): each reads only the uploaded file itself.
ImportFormat = Literal["trajkit-json", "trajkit-npz", "ati-pth", "comfyui-json", "wanmove-npy", "tora-txt"]
IMPORT_FORMATS: tuple[str, ...] = get_args(ImportFormat)
#: Extensions an import may have (the stored file gets a server-made name with one of these).
IMPORT_SUFFIXES = (".pth", ".json", ".npy", ".txt", ".npz", ".zip")
ZIP_MEMBERS = 64
ZIP_BYTES = 200 * 2**20


def project_tracks(project: Project, doc: Document) -> Tracks:
    """All of ``doc``'s tracks on the project's image (409 when there are none)."""
    tracks, _ = document_tracks(doc, project.size, depth=project.camera_depth(doc))
    if tracks is None:
        raise StudioError(409, "the project has no tracks to export or render yet")
    return tracks


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _written(obj: Any, name: str, fmt: str) -> dict[str, bytes]:
    """Every file trajkit's ``fmt`` writer makes for ``obj`` at ``name`` (sibling files included), by file name."""
    from ..formats.registry import save

    with tempfile.TemporaryDirectory() as tmp:
        save(obj, Path(tmp) / name, format=fmt)
        return {path.name: path.read_bytes() for path in sorted(Path(tmp).iterdir())}


def _saved(obj: Any, name: str, fmt: str) -> bytes:
    return _written(obj, name, fmt)[name]


def ati_timeline(tracks: Tracks) -> Tracks:
    from ..core.retime import fit_timeline
    from ..formats.ati_pth import ATI_FILE_FPS, ATI_FILE_FRAMES

    return fit_timeline(tracks, ATI_FILE_FRAMES, ATI_FILE_FPS)


def job_yaml(doc: Document, image: str, tracks: str) -> str:
    import yaml

    job = {"name": "studio", "image": image, "prompt": doc.prompt, "tracks": tracks, "frames": doc.frames,
           "fps": doc.fps, "size": "auto", "backend": "preview"}
    return yaml.safe_dump(job, sort_keys=False, allow_unicode=True)


def export(project: Project, fmt: ExportFormat) -> tuple[str, str, bytes]:
    """``(file name, media type, bytes)`` of the project's tracks in ``fmt`` (one of :data:`EXPORTS`)."""
    import yaml

    doc = project.document
    tracks = project_tracks(project, doc)
    name, media = EXPORTS[fmt]
    if fmt == "trajkit-json":
        data = _saved(tracks, "tracks.json", "trajkit-json")
    elif fmt == "ati-pth":
        data = _saved(ati_timeline(tracks), "tracks.pth", "ati-pth")
    elif fmt == "comfyui-json":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # hidden-then-visible points have no ComfyUI equivalent; said in docs
            data = _saved(tracks, "tracks.json", "comfyui-json")
    elif fmt == "wanmove":
        data = _zip(_written(tracks, "tracks.npy", "wanmove-npy"))  # + its sibling visibility.npy
    elif fmt == "ati-examples":
        pth = _saved(ati_timeline(tracks), "tracks.pth", "ati-pth")
        entry = [{"image": "images/studio.png", "text": doc.prompt or None, "track": "tracks/studio.pth"}]
        data = _zip({"test.yaml": yaml.safe_dump(entry, sort_keys=True).encode(),
                     "images/studio.png": project.image_path.read_bytes(), "tracks/studio.pth": pth})
    else:
        data = _zip({"job.yaml": job_yaml(doc, "image.png", "tracks.json").encode(),
                     "image.png": project.image_path.read_bytes(),
                     "tracks.json": _saved(tracks, "tracks.json", "trajkit-json")})
    return name, media, data


def import_tracks(project: Project, data: bytes, filename: str, fmt: ImportFormat | None = None) -> Document:
    """The project's saved document with the tracks of an uploaded file appended (``sampled`` tracks), validated.

    ``fmt`` (default: from the content) must be one of :data:`IMPORT_FORMATS`; a file sniffed as anything else is
    refused before it is read.
    """
    from ..formats.registry import detect, load

    suffix = Path(filename or "").suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise StudioError(415, f"track files are {', '.join(IMPORT_SUFFIXES)}; found {suffix or 'no extension'!r}")
    doc = project.document
    with tempfile.TemporaryDirectory() as tmp:
        if suffix == ".zip":
            path, zip_format = _unzip_tracks(data, Path(tmp))
            fmt = fmt or zip_format
        else:
            path = Path(tmp) / f"upload{suffix}"  # never the client's name
            path.write_bytes(data)
        try:
            name = fmt or detect(path).name
            if name not in IMPORT_FORMATS:
                raise StudioError(415, f"this is a {name} file, not tracks; imports are {', '.join(IMPORT_FORMATS)}")
            obj = load(path, format=name, size=project.size)
        except StudioError:
            raise
        except TrajkitError as exc:  # the message names the server's temporary file: name the upload instead
            message = str(exc).replace(str(path), Path(filename).name or "the upload").replace(tmp, "")
            raise StudioError(422, f"the file could not be read as tracks: {message}") from exc
    if not isinstance(obj, Tracks):
        raise StudioError(422, f"the file holds a {type(obj).__name__}, not tracks")
    tracks = obj.with_size(obj.size or project.size)
    if tracks.size != project.size:
        tracks = tracks.rescale(project.size)
    if tracks.num_frames != doc.frames:  # ATI's own index rule is for its 121 → 81 frames; otherwise by time
        ati_rule = name == "ati-pth" and (tracks.num_frames, doc.frames) == (121, 81)
        tracks = tracks.resample(doc.frames, method="ati" if ati_rule else "linear")
    room = MAX_TRACKS - len(doc.tracks)
    if tracks.num_tracks > room:
        raise StudioError(422, f"the file has {tracks.num_tracks} tracks; the project has room for {room}")
    new = [SampledTrack(id=f"i{uuid.uuid4().hex[:12]}", name=f"{Path(filename).stem[:40]} {n}",
                        xy=[(float(x), float(y)) for x, y in tracks.xy[:, n]],
                        visible=[bool(v) for v in tracks.visible[:, n]]) for n in range(tracks.num_tracks)]
    combined = doc.model_dump(mode="json")
    combined["tracks"] += [t.model_dump(mode="json") for t in new]
    return parse_document(combined)  # the document's own limits (positions, ids …) apply, as when it is saved


def _unzip_tracks(data: bytes, folder: Path) -> tuple[Path, str]:
    """The tracks inside one of the studio's zip exports (job, ATI examples, Wan-Move), written under fixed names."""
    import re

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise StudioError(422, f"not a readable zip archive ({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > ZIP_MEMBERS or sum(i.file_size for i in infos) > ZIP_BYTES:
            raise StudioError(413, f"the archive has too many or too large members (at most {ZIP_MEMBERS}, "
                                   f"{ZIP_BYTES // 2**20} MiB unpacked)")
        names = {i.filename for i in infos}

        def copy(member: str, target: str) -> Path:
            out = folder / target
            out.write_bytes(archive.read(member))
            return out

        if "tracks.json" in names:
            return copy("tracks.json", "tracks.json"), "trajkit-json"
        pth = sorted(n for n in names if re.fullmatch(r"tracks/[^/]+\.pth", n))
        if pth:
            return copy(pth[0], "tracks.pth"), "ati-pth"
        if "tracks.npy" in names:
            if "visibility.npy" in names:
                copy("visibility.npy", "visibility.npy")
            return copy("tracks.npy", "tracks.npy"), "wanmove-npy"
    raise StudioError(422, "the archive holds no tracks (tracks.json, tracks/*.pth or tracks.npy)")
