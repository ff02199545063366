"""glTF 2.0 scenes (``.gltf`` / ``.glb``) as entity paths: the open export of Blender, Maya, Houdini, Unreal and
Unity (FBX converts to it losslessly for transforms, e.g. with Blender or ``FBX2glTF``), so 3D animators can hand
3DTrajMaster-style 6-DoF paths — and the camera — to trajkit.

What is read
------------
* **Entities**: every node with a translation/rotation/scale animation (or the nodes named by ``nodes``), in scene
  order; a node's world transform composes its ancestors'. Prompts default to the node names.
* **Camera**: the node carrying a perspective camera (``camera``: its name or index; default the first one),
  animated (one pose per frame) or static (one pose); intrinsics from its ``yfov`` on a ``size`` canvas (default
  720×480, 3DTrajMaster's), square pixels, principal point at the centre.
* **Timeline**: keyframe times from the earliest to the latest key of the chosen nodes, the camera and all their
  ancestors, sampled at ``fps`` (default 30, the 360°-Motion rate). LINEAR (slerp for rotations), STEP and
  CUBICSPLINE samplers.

Conventions
-----------
glTF is right-handed, **+Y up**, metres; an asset's front faces **+Z** (its right is −X); a camera looks down
**−Z** with +Y up. trajkit's world keeps gravity along +y: a glTF point ``(x, y, z)`` becomes ``(x, −y, −z)``
(a half turn about x, so still right-handed). Entity axes become trajkit's (right, down, forward) and camera axes
OpenCV's (right, down, forward). Node scale is dropped from poses (they are rigid); lengths stay metres.

Buffers are embedded (``.glb`` binary chunk or base64 ``data:`` URIs) or files **beside** the ``.gltf`` (plain
names only, percent-decoded as Blender writes them: no folders, no absolute paths, no URLs). Nothing else is read
or executed. Every index must point into its array, offsets and strides must fit their buffers, and at most
:data:`_MAX_ENTITIES` nodes and :data:`_MAX_POSES` sampled node poses (frames × nodes, ancestors included) are read.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath, intrinsics_matrix
from ..core.conventions import opengl_to_opencv
from ..core.entities import EntityPaths
from ..core.errors import FormatError, describe_value
from ..core.rotations import orthonormalise, quaternion_slerp, quaternion_to_matrix
from ._io import number_array, parse_json, read_bytes, require
from .registry import Format, register

NAME = "gltf"
DEFAULT_FPS = 30.0
DEFAULT_SIZE = (720, 480)
#: glTF world → trajkit world (half turn about x: y up → y down, z towards the viewer → z away).
GLTF_TO_TRAJKIT = np.diag([1.0, -1.0, -1.0])
#: trajkit object axes (right, down, forward) expressed in a glTF asset's local axes (right = −X, front = +Z).
_OBJECT_AXES = np.diag([-1.0, -1.0, 1.0])
_COMPONENTS = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
#: Value width of each animated path: translation and scale VEC3, rotation a VEC4 quaternion (x, y, z, w).
_PATH_WIDTH = {"translation": 3, "rotation": 4, "scale": 3}
_MAX_KEYS = 1_000_000
#: Floats all accessors together may expand to, however often a document repeats or overlaps them (160 MB).
_MAX_VALUES = 20_000_000
_MAX_FRAMES = 100_000
#: Most nodes read as entities.
_MAX_ENTITIES = 256
#: Most node poses sampled: frames × (chosen nodes, the camera and all their ancestors), 128 bytes each.
_MAX_POSES = 1_000_000
_GLB_MAGIC = b"glTF"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(value: Any, path: Path, what: str, minimum: int = 0) -> int:
    """A JSON integer ``>= minimum`` (booleans and fractions refused)."""
    require(_is_int(value) and value >= minimum, path, NAME, f"{what} is not an integer >= {minimum}",
            found=describe_value(value))
    return int(value)


def _number(value: Any, path: Path, what: str) -> float:
    """A finite JSON number (booleans refused)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    require(ok, path, NAME, f"{what} is not a finite number", found=describe_value(value))
    return float(value)


def _array(owner: dict[str, Any], key: str, path: Path, what: str) -> list[Any]:
    """The JSON array ``owner[key]`` (absent: empty)."""
    value = owner.get(key, [])
    require(isinstance(value, list), path, NAME, f"{what} is not an array", found=describe_value(value))
    return value


def _item(items: list[Any], index: Any, path: Path, what: str) -> dict[str, Any]:
    """The object ``items[index]`` for an integer ``0 <= index < len(items)`` (no Python-style negative indices)."""
    require(_is_int(index) and 0 <= index < len(items), path, NAME, f"{what} index {index!r} is out of range",
            expected=f"0..{len(items) - 1}" if items else "no index (the array is empty)")
    item = items[index]
    require(isinstance(item, dict), path, NAME, f"{what} {index} is not an object", found=describe_value(item))
    return item


def _document(path: Path, raw: bytes) -> Any:
    """The JSON document in ``raw`` (UTF-8; NaN and Infinity refused)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(path, NAME, "the JSON is not UTF-8 text", found=f"undecodable byte at {exc.start}") from exc
    return parse_json(text, path, NAME)


def _parse_container(path: Path, data: bytes) -> tuple[dict[str, Any], bytes | None]:
    """The JSON document and, for ``.glb``, the binary chunk."""
    if data[:4] == _GLB_MAGIC:
        require(len(data) >= 20, path, NAME, "truncated .glb header")
        version, length = struct.unpack_from("<II", data, 4)
        require(version == 2, path, NAME, f"glTF version {version} (only 2.0 is read)")
        require(length <= len(data), path, NAME, "truncated .glb file", expected=f"{length} bytes",
                found=f"{len(data)}")
        offset, doc, binary = 12, None, None
        while offset + 8 <= length:
            size, kind = struct.unpack_from("<II", data, offset)
            chunk = data[offset + 8: offset + 8 + size]
            require(len(chunk) == size, path, NAME, "truncated .glb chunk")
            if kind == 0x4E4F534A and doc is None:
                doc = _document(path, chunk)
            elif kind == 0x004E4942 and binary is None:
                binary = chunk
            offset += 8 + size + (-size % 4)
        require(isinstance(doc, dict), path, NAME, "no JSON object chunk in the .glb file")
        return doc, binary  # type: ignore[return-value]
    doc = _document(path, data)
    require(isinstance(doc, dict), path, NAME, "top level must be a JSON object")
    return doc, None


class _Reader:
    """Buffers and typed accessors of one glTF document, each read once."""

    def __init__(self, path: Path, doc: dict[str, Any], binary: bytes | None) -> None:
        self.path, self.binary = path, binary
        self.buffers = _array(doc, "buffers", path, "'buffers'")
        self.views = _array(doc, "bufferViews", path, "'bufferViews'")
        self.accessors = _array(doc, "accessors", path, "'accessors'")
        self._by_uri: dict[str | None, bytes] = {}  # N buffers naming one file read it once
        self._accessors: dict[int, np.ndarray] = {}
        self._values = 0

    def _load(self, uri: str | None, what: str) -> bytes:
        """The bytes behind a buffer ``uri`` (``None``: the .glb binary chunk)."""
        if uri is None:
            require(self.binary is not None, self.path, NAME, f"{what} has no uri and there is no binary chunk")
            return self.binary  # type: ignore[return-value]
        if uri.startswith("data:"):
            head, _, payload = uri.partition(",")
            require(head.endswith(";base64"), self.path, NAME, f"{what}: only base64 data URIs are read")
            try:
                return base64.b64decode(payload, validate=True)
            except binascii.Error as exc:
                raise FormatError(self.path, NAME, f"{what}: invalid base64 data URI ({exc})") from exc
        name = urllib.parse.unquote(uri)  # Blender writes "My%20Scene.bin"
        plain = re.fullmatch(r"[\w .()+-]+", name) is not None and not name.startswith(".")
        require(plain, self.path, NAME, f"{what} refers to {uri[:60]!r}",
                expected="a plain file name beside the .gltf (no folders, absolute paths or URLs)")
        file = self.path.parent / name
        require(file.is_file(), self.path, NAME, f"{what}: file {name!r} not found beside the .gltf")
        return read_bytes(file, NAME)

    def buffer(self, index: Any) -> bytes:
        """Buffer ``index``, checked against its ``byteLength``."""
        spec = _item(self.buffers, index, self.path, "buffer")
        uri = spec.get("uri")
        require(uri is None or isinstance(uri, str), self.path, NAME, f"buffer {index}: uri is not a string")
        if uri not in self._by_uri:
            self._by_uri[uri] = self._load(uri, f"buffer {index}")
        data = self._by_uri[uri]
        length = _int(spec.get("byteLength"), self.path, f"buffer {index}: byteLength", minimum=1)
        require(len(data) >= length, self.path, NAME, f"buffer {index} is shorter than its byteLength",
                expected=f"{length} bytes", found=f"{len(data)}")
        return data

    def accessor(self, index: Any, what: str) -> np.ndarray:
        """Accessor ``index`` as float64 ``(count, width)`` (normalised integers mapped as the spec says)."""
        acc = _item(self.accessors, index, self.path, f"{what}: accessor")
        if index in self._accessors:
            return self._accessors[index]
        where = f"accessor {index}"
        kind, component = acc.get("type"), acc.get("componentType")
        require(isinstance(kind, str) and kind in _WIDTH, self.path, NAME, f"{where}: unknown type",
                expected=f"one of {sorted(_WIDTH)}", found=describe_value(kind))
        require(_is_int(component) and component in _COMPONENTS, self.path, NAME, f"{where}: unknown componentType",
                expected=f"one of {sorted(_COMPONENTS)}", found=describe_value(component))
        dtype, width = np.dtype(_COMPONENTS[component]).newbyteorder("<"), _WIDTH[kind]
        count = _int(acc.get("count"), self.path, f"{where}: count", minimum=1)
        require(count <= _MAX_KEYS, self.path, NAME, f"{where} has {count} elements", expected=f"at most {_MAX_KEYS}")
        require("sparse" not in acc, self.path, NAME, f"{where} is sparse (not supported for animation)")
        self._values += count * width
        require(self._values <= _MAX_VALUES, self.path, NAME, "the animation accessors are too large",
                expected=f"at most {_MAX_VALUES} values in all")
        view = _item(self.views, acc.get("bufferView"), self.path, f"{where}: bufferView")
        data = self.buffer(view.get("buffer"))
        view_offset = _int(view.get("byteOffset", 0), self.path, f"{where}: bufferView byteOffset")
        view_length = _int(view.get("byteLength"), self.path, f"{where}: bufferView byteLength", minimum=1)
        offset = _int(acc.get("byteOffset", 0), self.path, f"{where}: byteOffset")
        element = dtype.itemsize * width
        stride = element
        if "byteStride" in view:
            stride = _int(view["byteStride"], self.path, f"{where}: bufferView byteStride", minimum=element)
        require(view_offset + view_length <= len(data), self.path, NAME, f"{where}: its buffer view reaches past "
                "its buffer")
        require(offset + stride * (count - 1) + element <= view_length, self.path, NAME,
                f"accessor {index} reaches past its buffer view")
        raw = np.ndarray((count, width), dtype=dtype, buffer=data, offset=view_offset + offset,
                         strides=(stride, dtype.itemsize)).astype(np.float64)
        if acc.get("normalized") and dtype.kind in "iu":
            raw = np.maximum(raw / np.iinfo(dtype).max, -1.0)
        require(bool(np.isfinite(raw).all()), self.path, NAME, f"accessor {index} holds NaN or infinite values")
        self._accessors[index] = raw
        return raw


Channel = tuple[np.ndarray, np.ndarray, str]


def _channels(doc: dict[str, Any], reader: _Reader, nodes: int, path: Path) -> dict[int, dict[str, Channel]]:
    """``{node: {"translation" | "rotation" | "scale": (times (K,), values, interpolation)}}`` of the animations;
    rotation keys are normalised (a zero quaternion is refused)."""
    channels: dict[int, dict[str, Channel]] = {}
    for a, anim in enumerate(_array(doc, "animations", path, "'animations'")):
        require(isinstance(anim, dict), path, NAME, f"animation {a} is not an object")
        samplers = _array(anim, "samplers", path, f"animation {a}: 'samplers'")
        for c, channel in enumerate(_array(anim, "channels", path, f"animation {a}: 'channels'")):
            where = f"animation {a} channel {c}"
            require(isinstance(channel, dict), path, NAME, f"{where} is not an object")
            target = channel.get("target", {})
            require(isinstance(target, dict), path, NAME, f"{where}: target is not an object")
            kind = target.get("path")
            if not isinstance(kind, str) or kind not in _PATH_WIDTH or "node" not in target:
                continue  # morph weights, pointer extensions: not transforms
            node = target["node"]
            require(_is_int(node) and 0 <= node < nodes, path, NAME, f"{where}: target node index {node!r} is out "
                    "of range", expected=f"0..{nodes - 1}")
            sampler = _item(samplers, channel.get("sampler"), path, f"{where}: sampler")
            times = reader.accessor(sampler.get("input"), f"{where} input")
            require(times.shape[1] == 1, path, NAME, f"{where}: key times must be a SCALAR accessor",
                    found=f"{times.shape[1]} components")
            values = reader.accessor(sampler.get("output"), f"{where} output")
            require(values.shape[1] == _PATH_WIDTH[kind], path, NAME, f"{where}: {kind} values have "
                    f"{values.shape[1]} components", expected=f"{_PATH_WIDTH[kind]}")
            interpolation = sampler.get("interpolation", "LINEAR")
            require(interpolation in ("LINEAR", "STEP", "CUBICSPLINE"), path, NAME,
                    f"animation {a}: interpolation {interpolation!r}")
            cubic = interpolation == "CUBICSPLINE"
            expected = len(times) * (3 if cubic else 1)
            require(len(values) == expected and bool(np.all(np.diff(times[:, 0]) >= 0)), path, NAME,
                    f"animation {a}: keys and values do not match (or times decrease)")
            if kind == "rotation":
                norms = np.linalg.norm(values[1::3] if cubic else values, axis=1)
                require(bool(np.all(norms > 1e-12)), path, NAME, f"{where}: rotation key "
                        f"{int(np.argmin(norms))} is a zero quaternion", expected="a non-zero (x, y, z, w)")
                if not cubic:
                    values = values / norms[:, None]
            channels.setdefault(node, {})[kind] = (times[:, 0], values, interpolation)
    return channels


def _parents(all_nodes: list[dict[str, Any]], path: Path) -> dict[int, int]:
    """``{child: parent}`` from the nodes' ``children`` (indices checked, one parent per node)."""
    parent: dict[int, int] = {}
    for i, node in enumerate(all_nodes):
        for child in _array(node, "children", path, f"node {i}: 'children'"):
            require(_is_int(child) and 0 <= child < len(all_nodes), path, NAME, f"node {i}: child index {child!r} "
                    "is out of range", expected=f"0..{len(all_nodes) - 1}")
            require(child not in parent, path, NAME, f"node {child} has two parents ({parent.get(child)} and {i})")
            parent[child] = i
    return parent


def _ancestors(index: int, parent: dict[int, int], path: Path) -> list[int]:
    """``[index, its parent, …, the root]``; a cycle is a file error."""
    chain = [index]
    while chain[-1] in parent:
        require(parent[chain[-1]] not in chain, path, NAME, "the node hierarchy has a cycle")
        chain.append(parent[chain[-1]])
    return chain


def _sample(times: np.ndarray, values: np.ndarray, interpolation: str, t: np.ndarray, rotation: bool) -> np.ndarray:
    """A sampler's value at times ``t`` (held before the first and after the last key); rotations unnormalised."""
    if interpolation == "CUBICSPLINE":
        tangents_in, points, tangents_out = values[0::3], values[1::3], values[2::3]
    else:
        points = values
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
    k1 = np.minimum(k + 1, len(times) - 1)
    span = times[k1] - times[k]
    u = np.where(span > 0, np.clip((t - times[k]) / np.where(span > 0, span, 1), 0, 1), 0.0)
    if interpolation == "STEP" or len(times) == 1:
        return points[k]
    if interpolation == "CUBICSPLINE":
        u2, u3 = u * u, u * u * u
        h = [2 * u3 - 3 * u2 + 1, u3 - 2 * u2 + u, -2 * u3 + 3 * u2, u3 - u2]
        return (h[0][:, None] * points[k] + (h[1] * span)[:, None] * tangents_out[k]
                + h[2][:, None] * points[k1] + (h[3] * span)[:, None] * tangents_in[k1])
    if rotation:
        w_first = lambda q: q[:, [3, 0, 1, 2]]  # noqa: E731 - glTF quaternions are (x, y, z, w)
        return quaternion_slerp(w_first(points[k]), w_first(points[k1]), u)[:, [1, 2, 3, 0]]
    return points[k] + u[:, None] * (points[k1] - points[k])


def _local_matrix(path: Path, index: int, node: dict[str, Any], trs: dict[str, np.ndarray],
                  frames: int) -> np.ndarray:
    """Local transforms ``(T, 4, 4)`` of a node (static TRS/matrix, or its animated channels)."""
    where = f"node {index}"
    if "matrix" in node and not trs:
        m = number_array(node["matrix"], path, NAME, f"{where} matrix", (16,), "16 numbers").reshape(4, 4).T
        return np.broadcast_to(m, (frames, 4, 4)).copy()  # column-major in the file

    def static(key: str, default: list[float]) -> np.ndarray:
        value = number_array(node.get(key, default), path, NAME, f"{where} {key}", (len(default),),
                             f"{len(default)} numbers")
        return np.broadcast_to(value, (frames, len(default)))

    t = trs["translation"] if "translation" in trs else static("translation", [0.0, 0.0, 0.0])
    r = trs["rotation"] if "rotation" in trs else static("rotation", [0.0, 0.0, 0.0, 1.0])
    s = trs["scale"] if "scale" in trs else static("scale", [1.0, 1.0, 1.0])
    norms = np.linalg.norm(r, axis=-1, keepdims=True)
    state = "is animated through" if "rotation" in trs else "is"
    require(bool(np.all(norms > 1e-12)), path, NAME, f"{where} rotation {state} a zero quaternion",
            expected="a non-zero (x, y, z, w)")
    require(bool(np.isfinite(norms).all()), path, NAME, f"{where} rotation {state} too large to normalise",
            expected="a quaternion of moderate magnitude (unit length, as glTF requires)")
    out = np.zeros((frames, 4, 4))
    out[:, :3, :3] = quaternion_to_matrix((r / norms)[:, [3, 0, 1, 2]]) * s[:, None, :]
    out[:, :3, 3] = t
    out[:, 3, 3] = 1.0
    return out


def _pick(names: list[str], choice: int | str, what: str, path: Path) -> int:
    if isinstance(choice, int) or (isinstance(choice, str) and choice.isdigit()):
        index = int(choice)
        require(0 <= index < len(names), path, NAME, f"{what} {index} does not exist", expected=f"0..{len(names) - 1}")
        return index
    require(choice in names, path, NAME, f"no {what} named {choice!r}", expected=f"one of {names[:12]}")
    return names.index(choice)


def _intrinsics(doc: dict[str, Any], node: dict[str, Any], path: Path, size: tuple[int, int]) -> np.ndarray:
    """``K`` of a node's perspective camera on a ``size`` canvas (square pixels, centred principal point)."""
    spec = _item(_array(doc, "cameras", path, "'cameras'"), node.get("camera"), path, "camera")
    require(spec.get("type") == "perspective", path, NAME, "only perspective cameras are read")
    perspective = spec.get("perspective")
    require(isinstance(perspective, dict), path, NAME, "the camera has no 'perspective' object")
    yfov = _number(perspective.get("yfov"), path, "camera yfov")
    require(0 < yfov < np.pi, path, NAME, f"camera yfov {yfov} rad is out of range")
    w, h = size
    f = h / 2 / np.tan(yfov / 2)
    return intrinsics_matrix(f, f, w / 2, h / 2)


def read(path: Path, *, fps: float = DEFAULT_FPS, nodes: Sequence[int | str] | None = None,
         camera: int | str | None = None, size: tuple[int, int] = DEFAULT_SIZE,
         prompts: Sequence[str] | None = None) -> EntityPaths:
    """A glTF scene → :class:`EntityPaths` (animated nodes, or ``nodes``) seen by its camera (see the module
    docstring). ``camera``: ``"none"`` for no camera."""
    path = Path(path)
    doc, binary = _parse_container(path, read_bytes(path, NAME))
    reader = _Reader(path, doc, binary)
    all_nodes = _array(doc, "nodes", path, "'nodes'")
    require(bool(all_nodes), path, NAME, "the file has no nodes")
    for i, node in enumerate(all_nodes):
        require(isinstance(node, dict), path, NAME, f"node {i} is not an object", found=describe_value(node))
    names = [str(n.get("name", f"node {i}")) for i, n in enumerate(all_nodes)]
    parent = _parents(all_nodes, path)
    channels = _channels(doc, reader, len(all_nodes), path)
    cameras = [i for i, n in enumerate(all_nodes) if "camera" in n]
    if nodes is None:
        chosen = [i for i in range(len(all_nodes)) if i in channels and i not in cameras]
        require(bool(chosen), path, NAME, "no animated nodes to use as entities",
                expected="nodes with translation/rotation animations, or nodes=[names]")
    else:
        chosen = [_pick(names, n, "node", path) for n in nodes]
    require(len(chosen) <= _MAX_ENTITIES, path, NAME, f"{len(chosen)} nodes to read as entities",
            expected=f"at most {_MAX_ENTITIES} (name the entity nodes with nodes=[...])")
    cam_index = None
    if cameras and camera != "none":
        cam_index = cameras[0] if camera is None else _pick(names, camera, "node", path)
        require(cam_index in cameras, path, NAME, f"node {names[cam_index]!r} carries no camera")
    # Everything sampled, each node once: the chosen nodes, the camera and all their ancestors.
    sampled = dict.fromkeys(j for i in [*chosen, *([] if cam_index is None else [cam_index])]
                            for j in _ancestors(i, parent, path))
    keys = [times for j in sampled for times, _, _ in channels.get(j, {}).values()]
    start = min((float(k[0]) for k in keys), default=0.0)
    end = max((float(k[-1]) for k in keys), default=0.0)
    require(fps > 0 and np.isfinite(fps), path, NAME, f"fps must be positive, not {fps}")
    frames = round((end - start) * fps) + 1
    require(frames <= _MAX_FRAMES, path, NAME, f"{frames} frames at {fps:g} fps is too long",
            expected=f"at most {_MAX_FRAMES}")
    require(frames * len(sampled) <= _MAX_POSES, path, NAME, f"{frames} frames × {len(sampled)} nodes (with "
            "their ancestors and the camera) is too much to sample",
            expected=f"at most {_MAX_POSES} node poses; name fewer nodes or lower fps")
    t = start + np.arange(frames) / fps

    worlds: dict[int, np.ndarray] = {}  # shared ancestors are sampled once

    def world(index: int) -> np.ndarray:
        for j in reversed(_ancestors(index, parent, path)):  # the root first
            if j not in worlds:
                with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused just below, by name
                    trs = {k: _sample(*v, t, rotation=k == "rotation") for k, v in channels.get(j, {}).items()}
                    local = _local_matrix(path, j, all_nodes[j], trs, frames)
                    worlds[j] = worlds[parent[j]] @ local if j in parent else local
                require(bool(np.isfinite(worlds[j]).all()), path, NAME, f"node {j}: its world transform overflows")
        return worlds[index]

    W = np.eye(4)
    W[:3, :3] = GLTF_TO_TRAJKIT

    def rigid(m: np.ndarray, axes: np.ndarray) -> np.ndarray:
        out = W @ m
        out[:, :3, :3] = orthonormalise(out[:, :3, :3]) @ axes
        out[:, 3] = [0, 0, 0, 1]
        return out

    poses = np.stack([rigid(world(i), _OBJECT_AXES) for i in chosen])
    cam_path = None
    if cam_index is not None:
        K = _intrinsics(doc, all_nodes[cam_index], path, size)
        c2w = opengl_to_opencv(rigid(world(cam_index), np.eye(3)))  # glTF cameras look down −Z with +Y up
        if not any(j in channels for j in _ancestors(cam_index, parent, path)):
            c2w = c2w[:1]  # a static camera stays one frame
        cam_path = CameraPath(c2w=c2w, K=K, size=(size[0], size[1]), fps=fps, metric=True,
                              meta={"name": names[cam_index], "source_format": NAME})
    texts = list(prompts) if prompts is not None else [names[i] for i in chosen]
    return EntityPaths(poses=poses, prompts=texts, fps=fps, camera=cam_path,
                       meta={"format": NAME, "nodes": [names[i] for i in chosen], "start_s": start})


def sniff(path: Path, head: bytes) -> bool:
    """``.glb`` by its magic; ``.gltf`` by its extension and a JSON object start (``"asset"`` may come late)."""
    if head[:4] == _GLB_MAGIC:
        return True
    return path.suffix.lower() == ".gltf" and head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{"


FORMAT = register(Format(
    name=NAME,
    title="glTF 2.0 scene (.gltf / .glb) — animated nodes and camera",
    kind="entities",
    extensions=(".gltf", ".glb"),
    sniff=sniff,
    read=read,
    hints=("fps", "nodes", "camera", "size", "prompts"),
    notes="Animated nodes → entities (prompts = node names), the perspective camera → camera; +Y-up metres "
          "mapped to trajkit's y-down world; sampled at fps (30). Export FBX/USD animations to glTF first.",
))
