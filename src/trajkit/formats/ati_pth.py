"""ATI track files (``examples/tracks/*.pth``), read without torch and without trusting the pickle.

Container (bytedance/ATI; ``shared/specs/ati.md`` §2): ``torch.save`` of a Python ``bytes`` object. The
file is a zip with ``<prefix>/data.pkl``, ``<prefix>/byteorder``, ``<prefix>/version`` and
``<prefix>/.data/serialization_id``; ``data.pkl`` is a protocol-2 pickle whose only global is
``_codecs.encode`` (how protocol 2 stores ``bytes``). The bytes are an ``np.savez_compressed`` archive
with one array under ``"array"``:

* shape ``(N, 121, 1, 3)`` (track-first; ``(121, N, 1, 3)`` time-first is accepted too), 121 frames at
  24 fps, last axis ``(x, y, visible)``;
* every channel stored **× 8** (1/8-px precision, visible ∈ {0, 8}); float32, or uint16 in legacy files;
* pixels of the **original image** (origin top-left), not stored in the file: pass ``image=`` or
  ``size=`` when reading. Padding frames are ``x = y = visible = 0``.

Reading uses an unpickler that admits exactly ``_codecs.encode`` and nothing else, so a hostile file can
never run code; the inner archive is opened with ``allow_pickle=False`` and size limits. Writing
produces the same container (``torch.load(path, weights_only=True)`` returns the npz bytes).
"""

from __future__ import annotations

import io
import pickle
import secrets
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..core.ati import ATI_FILE_FPS, ATI_FILE_FRAMES
from ..core.errors import FormatError, UnsupportedError
from ..core.tracks import Tracks
from ._io import NUMPY_READ_ERRORS, atomic_write_bytes, check_npy_headers, read_bytes
from .images import image_size
from .registry import Format, register

NAME = "ati-pth"
QUANT = 8.0
#: Largest uncompressed track array accepted (10 000 tracks × 121 frames × 3 × 4 bytes ≈ 15 MB).
MAX_ARRAY_BYTES = 64 * 1024 * 1024
_ALIGN = 64  # torch aligns record data to 64 bytes inside its zip archives


class _CodecsOnlyUnpickler(pickle.Unpickler):
    """Admits only ``_codecs.encode``: the single global a pickled ``bytes`` object needs."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("_codecs", "encode"):
            import codecs

            return codecs.encode
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in an ATI track file")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("tensor storages are not allowed in an ATI track file")


def _payload(path: Path, data: bytes) -> bytes:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FormatError(path, NAME, "not a torch zip archive", expected="a zip with <prefix>/data.pkl") from exc
    with zf:
        names = [i for i in zf.infolist() if i.filename.endswith("/data.pkl") or i.filename == "data.pkl"]
        if len(names) != 1:
            raise FormatError(path, NAME, "no single data.pkl record", expected="one */data.pkl",
                              found=f"{len(names)} of {len(zf.infolist())} entries")
        info = names[0]
        if info.file_size > MAX_ARRAY_BYTES * 2:
            raise FormatError(path, NAME, "data.pkl too large", found=f"{info.file_size} bytes")
        pkl = zf.read(info)
    try:
        obj = _CodecsOnlyUnpickler(io.BytesIO(pkl)).load()
    except pickle.UnpicklingError as exc:
        raise FormatError(path, NAME, f"refused pickle content: {exc}") from exc
    if not isinstance(obj, bytes):
        raise FormatError(path, NAME, "the pickled object is not bytes", expected="npz bytes",
                          found=type(obj).__name__)
    return obj


def _array(path: Path, npz: bytes) -> np.ndarray:
    try:
        inner = zipfile.ZipFile(io.BytesIO(npz))
    except zipfile.BadZipFile as exc:
        raise FormatError(path, NAME, "the payload is not an .npz archive") from exc
    with inner:
        total = sum(i.file_size for i in inner.infolist())
        if total > MAX_ARRAY_BYTES:
            raise FormatError(path, NAME, "track array too large", expected=f"≤ {MAX_ARRAY_BYTES} bytes",
                              found=f"{total} bytes")
    check_npy_headers(npz, path, NAME)
    try:
        with np.load(io.BytesIO(npz), allow_pickle=False) as archive:
            if "array" not in archive.files:
                raise FormatError(path, NAME, "npz key missing", expected="'array'", found=str(archive.files))
            arr = archive["array"]
    except NUMPY_READ_ERRORS as exc:
        raise FormatError(path, NAME, f"the track array is not a readable .npy ({type(exc).__name__})") from exc
    if arr.dtype.kind not in "fiu":
        raise FormatError(path, NAME, "track array is not numeric", found=str(arr.dtype))
    return arr


def decode_array(arr: np.ndarray, path: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ATI's stored array → ``(xy (T, N, 2) float32, visible (T, N) bool)`` in pixels (÷ 8 applied).

    Accepts ``(N, 121, 1, 3)``, ``(121, N, 1, 3)`` and the same without the singleton axis. When both
    axes are 121 the track-first layout is assumed (as ATI's loader does).
    """
    a = np.asarray(arr)
    if a.ndim == 4 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim != 3 or a.shape[-1] != 3:
        raise FormatError(path, NAME, "unexpected track array shape", expected="(N, 121, 1, 3)",
                          found=str(tuple(np.shape(arr))))
    if a.shape[1] == ATI_FILE_FRAMES:
        a = np.swapaxes(a, 0, 1)
    elif a.shape[0] != ATI_FILE_FRAMES:
        raise FormatError(path, NAME, "tracks must have 121 frames", expected="(N, 121, 1, 3) or (121, N, 1, 3)",
                          found=str(tuple(np.shape(arr))))
    a = a.astype(np.float32) / np.float32(QUANT)
    if not np.isfinite(a).all():
        raise FormatError(path, NAME, "track array holds NaN or infinite values")
    if a.shape[1] == 0:
        raise FormatError(path, NAME, "the file holds no tracks", found="N = 0")
    return np.ascontiguousarray(a[..., :2]), a[..., 2] >= 0.5


def encode_array(tracks: Tracks, dtype: str = "float32") -> np.ndarray:
    """``Tracks`` (121 frames) → ATI's ``(N, 121, 1, 3)`` array × 8 (float32, or legacy uint16)."""
    arr = np.concatenate([tracks.xy, tracks.visible[..., None].astype(np.float32)], axis=-1) * QUANT
    arr = np.swapaxes(arr, 0, 1)[:, :, None, :]
    if dtype == "float32":
        return np.ascontiguousarray(arr, dtype=np.float32)
    if dtype == "uint16":
        if arr.min() < 0 or arr.max() > 65535:
            raise UnsupportedError("uint16 ATI tracks cannot hold negative or > 8191.875 px coordinates; "
                                   "write float32 instead")
        return np.ascontiguousarray(np.round(arr), dtype=np.uint16)
    raise UnsupportedError(f"dtype must be 'float32' or 'uint16', not {dtype!r}")


def read(path: Path, size: tuple[int, int] | None = None, image: str | Path | None = None,
         fps: float = ATI_FILE_FPS) -> Tracks:
    """Read an ATI ``.pth`` into ``Tracks`` (121 frames at 24 fps; canvas from ``image`` or ``size``).

    Without ``image``/``size`` the canvas is unknown (``tracks.size is None``).
    """
    if image is not None:
        size = image_size(image)
    data = read_bytes(path, NAME)
    xy, vis = decode_array(_array(path, _payload(path, data)), path)
    return Tracks(xy=xy, visible=vis, size=size, fps=fps, meta={"source_format": NAME})


def container_bytes(payload: bytes, prefix: str = "archive") -> bytes:
    """The ``torch.save`` zip container of a ``bytes`` object, as ATI writes it (no torch needed)."""
    pkl = pickle.dumps(payload, protocol=2)
    records = [
        ("data.pkl", pkl),
        ("byteorder", b"little"),
        ("version", b"3\n"),
        (".data/serialization_id", str(secrets.randbits(128)).zfill(40).encode()[:40]),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, blob in records:
            info = zipfile.ZipInfo(f"{prefix}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            # Pad the local header's extra field so that the record data starts 64-byte aligned, as torch does.
            start = buf.tell() + 30 + len(info.filename.encode())
            pad = (-(start + 4)) % _ALIGN
            info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad  # "FB" padding block, torch's id
            zf.writestr(info, blob)
    return buf.getvalue()


def write(tracks: Tracks, path: Path, dtype: str = "float32") -> None:
    """Write ``Tracks`` with exactly 121 frames as an ATI ``.pth`` (float32 ×8 by default)."""
    if tracks.num_frames != ATI_FILE_FRAMES:
        raise UnsupportedError(
            f"{path}: ATI track files hold exactly {ATI_FILE_FRAMES} frames at {ATI_FILE_FPS:g} fps, the tracks "
            f"have {tracks.num_frames}; resample first (CLI: trajkit convert IN OUT.pth resamples for you)"
        )
    buf = io.BytesIO()
    np.savez_compressed(buf, array=encode_array(tracks, dtype))
    atomic_write_bytes(path, container_bytes(buf.getvalue(), prefix=path.stem or "archive"))


def sniff(path: Path, head: bytes) -> bool:
    """A zip whose first entry is ``*/data.pkl`` (torch's container)."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    name_len = struct.unpack("<H", head[26:28])[0]
    name = head[30:30 + name_len]
    return name.endswith(b"data.pkl")


FORMAT = register(Format(
    name=NAME,
    title="ATI track file (torch-saved npz bytes, ×8 quantised)",
    kind="tracks",
    extensions=(".pth", ".pt"),
    sniff=sniff,
    read=read,
    write=write,
    writes=(Tracks,),
    hints=("size", "image", "fps"),
    frames=ATI_FILE_FRAMES,
    fps=ATI_FILE_FPS,
    notes="121 frames @ 24 fps in pixels of the original image (size not stored: pass image= or size=).",
    options={"dtype": "float32 (default) or uint16 (legacy; no negative coordinates)"},
))
