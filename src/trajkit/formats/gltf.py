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
* **Timeline**: keyframe times from the earliest to the latest key of the chosen nodes, sampled at ``fps``
  (default 30, the 360°-Motion rate). LINEAR (slerp for rotations), STEP and CUBICSPLINE samplers.

Conventions
-----------
glTF is right-handed, **+Y up**, metres; an asset's front faces **+Z** (its right is −X); a camera looks down
**−Z** with +Y up. trajkit's world keeps gravity along +y: a glTF point ``(x, y, z)`` becomes ``(x, −y, −z)``
(a half turn about x, so still right-handed). Entity axes become trajkit's (right, down, forward) and camera axes
OpenCV's (right, down, forward). Node scale is dropped from poses (they are rigid); lengths stay metres.

Buffers are embedded (``.glb`` binary chunk or base64 ``data:`` URIs) or files **beside** the ``.gltf`` (plain
names only: no folders, no absolute paths, no URLs). Nothing else is read or executed.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath, intrinsics_matrix
from ..core.entities import EntityPaths
from ..core.errors import FormatError
from ..core.rotations import orthonormalise, quaternion_slerp, quaternion_to_matrix
from ._io import read_bytes, require
from .registry import Format, register

NAME = "gltf"
DEFAULT_FPS = 30.0
DEFAULT_SIZE = (720, 480)
#: glTF world → trajkit world (half turn about x: y up → y down, z towards the viewer → z away).
GLTF_TO_TRAJKIT = np.diag([1.0, -1.0, -1.0])
#: trajkit object axes (right, down, forward) expressed in a glTF asset's local axes (right = −X, front = +Z).
_OBJECT_AXES = np.diag([-1.0, -1.0, 1.0])
#: OpenCV camera axes (right, down, forward) in a glTF camera's local axes (looks down −Z, +Y up).
_CAMERA_AXES = np.diag([1.0, -1.0, -1.0])
_COMPONENTS = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_MAX_KEYS = 1_000_000
_MAX_FRAMES = 100_000
_GLB_MAGIC = b"glTF"


def _fail(path: Path, problem: str, **kw: Any) -> FormatError:
    return FormatError(path, NAME, problem, **kw)


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
                doc = json.loads(chunk.decode("utf-8"))
            elif kind == 0x004E4942 and binary is None:
                binary = chunk
            offset += 8 + size + (-size % 4)
        require(isinstance(doc, dict), path, NAME, "no JSON chunk in the .glb file")
        return doc, binary  # type: ignore[return-value]
    doc = json.loads(data.decode("utf-8"))
    require(isinstance(doc, dict), path, NAME, "top level must be a JSON object")
    return doc, None


class _Reader:
    """Buffers and typed accessors of one glTF document."""

    def __init__(self, path: Path, doc: dict[str, Any], binary: bytes | None) -> None:
        self.path, self.doc, self.binary = path, doc, binary
        self._buffers: dict[int, bytes] = {}

    def buffer(self, index: int) -> bytes:
        if index not in self._buffers:
            spec = self.doc["buffers"][index]
            uri = spec.get("uri")
            if uri is None:
                require(self.binary is not None, self.path, NAME, f"buffer {index} has no uri and there is no "
                        "binary chunk")
                data = self.binary
            elif uri.startswith("data:"):
                head, _, payload = uri.partition(",")
                require(head.endswith(";base64"), self.path, NAME, f"buffer {index}: only base64 data URIs are read")
                data = base64.b64decode(payload, validate=True)
            else:
                require(re.fullmatch(r"[\w .()+-]+", uri) is not None and not uri.startswith("."), self.path, NAME,
                        f"buffer {index} refers to {uri[:60]!r}", expected="a plain file name beside the .gltf "
                        "(no folders, absolute paths or URLs)")
                data = read_bytes(self.path.parent / uri, NAME)
            require(len(data) >= int(spec.get("byteLength", 0)), self.path, NAME, f"buffer {index} is shorter "
                    "than its byteLength")
            self._buffers[index] = data  # type: ignore[assignment]
        return self._buffers[index]

    def accessor(self, index: int) -> np.ndarray:
        """Accessor ``index`` as float64 ``(count, width)`` (normalised integers mapped as the spec says)."""
        acc = self.doc["accessors"][index]
        dtype = _COMPONENTS[int(acc["componentType"])]
        width = _WIDTH[acc["type"]]
        count = int(acc["count"])
        require(0 < count <= _MAX_KEYS, self.path, NAME, f"accessor {index} has {count} elements")
        require("sparse" not in acc, self.path, NAME, f"accessor {index} is sparse (not supported for animation)")
        view = self.doc["bufferViews"][int(acc["bufferView"])]
        data = self.buffer(int(view["buffer"]))
        start = int(view.get("byteOffset", 0)) + int(acc.get("byteOffset", 0))
        item = np.dtype(dtype).itemsize
        stride = int(view.get("byteStride", 0)) or item * width
        end = start + stride * (count - 1) + item * width
        require(start >= 0 and end <= int(view.get("byteOffset", 0)) + int(view["byteLength"]) <= len(data),
                self.path, NAME, f"accessor {index} reaches past its buffer view")
        raw = np.ndarray((count, width), dtype=np.dtype(dtype).newbyteorder("<"), buffer=data, offset=start,
                         strides=(stride, item)).astype(np.float64)
        if acc.get("normalized") and dtype != np.float32:
            raw = np.maximum(raw / np.iinfo(dtype).max, -1.0)
        require(bool(np.isfinite(raw).all()), self.path, NAME, f"accessor {index} holds NaN or infinite values")
        return raw


def _sample(times: np.ndarray, values: np.ndarray, interpolation: str, t: np.ndarray, rotation: bool) -> np.ndarray:
    """A sampler's value at times ``t`` (held before the first and after the last key)."""
    if interpolation == "CUBICSPLINE":
        tangents_in, points, tangents_out = values[0::3], values[1::3], values[2::3]
    else:
        points = values
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
    k1 = np.minimum(k + 1, len(times) - 1)
    span = times[k1] - times[k]
    u = np.where(span > 0, np.clip((t - times[k]) / np.where(span > 0, span, 1), 0, 1), 0.0)
    if interpolation == "STEP" or len(times) == 1:
        out = points[k]
    elif interpolation == "CUBICSPLINE":
        u2, u3 = u * u, u * u * u
        h = [2 * u3 - 3 * u2 + 1, u3 - 2 * u2 + u, -2 * u3 + 3 * u2, u3 - u2]
        out = (h[0][:, None] * points[k] + (h[1] * span)[:, None] * tangents_out[k]
               + h[2][:, None] * points[k1] + (h[3] * span)[:, None] * tangents_in[k1])
    elif rotation:
        w_first = lambda q: q[:, [3, 0, 1, 2]]  # noqa: E731 - glTF quaternions are (x, y, z, w)
        q = quaternion_slerp(w_first(points[k]), w_first(points[k1]), u)
        out = q[:, [1, 2, 3, 0]]
    else:
        out = points[k] + u[:, None] * (points[k1] - points[k])
    if rotation:
        out = out / np.linalg.norm(out, axis=-1, keepdims=True)
    return out


def _local_matrix(node: dict[str, Any], trs: dict[str, np.ndarray], frames: int) -> np.ndarray:
    """Local transforms ``(T, 4, 4)`` of a node (static TRS/matrix, or its animated channels)."""
    if "matrix" in node and not trs:
        m = np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T  # column-major
        return np.broadcast_to(m, (frames, 4, 4)).copy()
    t = trs.get("translation", np.broadcast_to(np.asarray(node.get("translation", [0, 0, 0]), float), (frames, 3)))
    r = trs.get("rotation", np.broadcast_to(np.asarray(node.get("rotation", [0, 0, 0, 1]), float), (frames, 4)))
    s = trs.get("scale", np.broadcast_to(np.asarray(node.get("scale", [1, 1, 1]), float), (frames, 3)))
    out = np.zeros((frames, 4, 4))
    out[:, :3, :3] = quaternion_to_matrix(r[:, [3, 0, 1, 2]]) * s[:, None, :]
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


def read(path: Path, *, fps: float = DEFAULT_FPS, nodes: Sequence[int | str] | None = None,
         camera: int | str | None = None, size: tuple[int, int] = DEFAULT_SIZE,
         prompts: Sequence[str] | None = None) -> EntityPaths:
    """A glTF scene → :class:`EntityPaths` (animated nodes, or ``nodes``) seen by its camera (see the module
    docstring). ``camera``: ``"none"`` for no camera."""
    path = Path(path)
    doc, binary = _parse_container(path, read_bytes(path, NAME))
    reader = _Reader(path, doc, binary)
    all_nodes = doc.get("nodes") or []
    require(isinstance(all_nodes, list) and all_nodes, path, NAME, "the file has no nodes")
    names = [str(n.get("name", f"node {i}")) for i, n in enumerate(all_nodes)]
    parent = {c: i for i, n in enumerate(all_nodes) for c in n.get("children", [])}
    channels: dict[int, dict[str, tuple[np.ndarray, np.ndarray, str]]] = {}
    for a, anim in enumerate(doc.get("animations") or []):
        for channel in anim.get("channels", []):
            target = channel.get("target", {})
            kind = target.get("path")
            if kind not in ("translation", "rotation", "scale") or "node" not in target:
                continue
            sampler = anim["samplers"][int(channel["sampler"])]
            times = reader.accessor(int(sampler["input"]))[:, 0]
            values = reader.accessor(int(sampler["output"]))
            interpolation = sampler.get("interpolation", "LINEAR")
            require(interpolation in ("LINEAR", "STEP", "CUBICSPLINE"), path, NAME,
                    f"animation {a}: interpolation {interpolation!r}")
            expected = len(times) * (3 if interpolation == "CUBICSPLINE" else 1)
            require(len(values) == expected and bool(np.all(np.diff(times) >= 0)), path, NAME,
                    f"animation {a}: keys and values do not match (or times decrease)")
            channels.setdefault(int(target["node"]), {})[kind] = (times, values, interpolation)
    cameras = [i for i, n in enumerate(all_nodes) if "camera" in n]
    if nodes is None:
        chosen = [i for i in range(len(all_nodes)) if i in channels and i not in cameras]
        require(bool(chosen), path, NAME, "no animated nodes to use as entities",
                expected="nodes with translation/rotation animations, or nodes=[names]")
    else:
        chosen = [_pick(names, n, "node", path) for n in nodes]
    keyed = [channels[i] for i in chosen if i in channels]
    times = [c[0] for ch in keyed for c in ch.values()]
    start = min((float(t[0]) for t in times), default=0.0)
    end = max((float(t[-1]) for t in times), default=0.0)
    require(fps > 0 and np.isfinite(fps), path, NAME, f"fps must be positive, not {fps}")
    frames = round((end - start) * fps) + 1
    require(frames <= _MAX_FRAMES, path, NAME, f"{frames} frames at {fps:g} fps is too long")
    t = start + np.arange(frames) / fps

    worlds: dict[int, np.ndarray] = {}  # shared ancestors are sampled once

    def world(index: int, seen: frozenset[int] = frozenset()) -> np.ndarray:
        require(index not in seen, path, NAME, "the node hierarchy has a cycle")
        if index not in worlds:
            trs = {k: _sample(*v, t, rotation=k == "rotation") for k, v in channels.get(index, {}).items()}
            local = _local_matrix(all_nodes[index], trs, frames)
            worlds[index] = world(parent[index], seen | {index}) @ local if index in parent else local
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
    if cameras and camera != "none":
        index = cameras[0] if camera is None else _pick(names, camera, "node", path)
        require(index in cameras, path, NAME, f"node {names[index]!r} carries no camera")
        spec = doc["cameras"][int(all_nodes[index]["camera"])]
        require(spec.get("type") == "perspective", path, NAME, "only perspective cameras are read")
        yfov = float(spec["perspective"]["yfov"])
        require(0 < yfov < np.pi, path, NAME, f"camera yfov {yfov} rad is out of range")
        w, h = size
        f = h / 2 / np.tan(yfov / 2)
        c2w = rigid(world(index), _CAMERA_AXES)
        chain, node = [index], index
        while node in parent:
            node = parent[node]
            chain.append(node)
        if not any(i in channels for i in chain):
            c2w = c2w[:1]  # a static camera stays one frame
        cam_path = CameraPath(c2w=c2w, K=intrinsics_matrix(f, f, w / 2, h / 2), size=(w, h), fps=fps, metric=True,
                              meta={"name": names[index], "source_format": NAME})
    texts = list(prompts) if prompts is not None else [names[i] for i in chosen]
    return EntityPaths(poses=poses, prompts=texts, fps=fps, camera=cam_path,
                       meta={"format": NAME, "nodes": [names[i] for i in chosen], "start_s": start})


def sniff(path: Path, head: bytes) -> bool:
    if head[:4] == _GLB_MAGIC:
        return True
    return path.suffix.lower() == ".gltf" and b'"asset"' in head


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
