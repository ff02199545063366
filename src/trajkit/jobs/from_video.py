"""Controls taken from a reference video inside a job: ``tracks: {video: …}`` and ``camera: {video: …}``.

The video is decoded straight onto the job's canvas (so a 4K reference costs what a 480p one does), tracked or
put through structure from motion, and handed back for the usual timeline fitting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.camera import CameraPath
from ..core.errors import TrajkitError
from ..core.tracks import Tracks


def video_size(path: Path) -> tuple[int, int]:
    """``(W, H)`` of a video file's first video stream, without decoding it."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return int(stream.width), int(stream.height)
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise TrajkitError(f"{path}: not a readable video ({exc})") from exc


def tracks_from_video(ts: Any, path: Path, size: tuple[int, int], notes: list[str]) -> Tracks:
    """Tracks of ``ts.grid`` / ``ts.points`` (in the video's own pixels) through the video at ``path``."""
    import numpy as np

    from ..measure.queries import grid_queries, point_queries
    from ..measure.trackers import TRACKERS, track_video
    from ..measure.video import read_video

    if ts.tracker not in TRACKERS:
        raise TrajkitError(f"field 'tracks.tracker': unknown tracker {ts.tracker!r}; choose one of "
                           f"{', '.join(TRACKERS)}")
    native = video_size(path)
    try:
        frames, fps = read_video(path, size=size)
    except TrajkitError as exc:
        raise TrajkitError(f"field 'tracks.video': {exc}") from exc
    if ts.points is not None:
        scale = np.array([size[0] / native[0], size[1] / native[1]])
        queries = point_queries(np.asarray(ts.points, dtype=np.float64) * scale, ts.frame)
    else:
        queries = grid_queries(size, tuple(ts.grid or (8, 8)), ts.frame)
    try:
        tracks = track_video(frames, queries, tracker=ts.tracker, fps=fps)
    except TrajkitError as exc:
        raise TrajkitError(f"field 'tracks': {path.name}: {exc}") from exc
    notes.append(f"tracks taken from {path.name} ({native[0]}×{native[1]}, {len(frames)} frames at {fps:g} fps): "
                 f"{tracks.num_tracks} points tracked with {ts.tracker}")
    return tracks.replace(meta={**tracks.meta, "source_video": path.name})


def camera_from_video(cs: Any, path: Path, size: tuple[int, int], notes: list[str]) -> CameraPath:
    """The camera path estimated from the video at ``path``, on the job's canvas (focal length known only when the
    job gives ``camera.hfov``)."""
    from ..core.camera import intrinsics_from_fov
    from ..measure.camera import estimate_camera
    from ..measure.video import read_video

    try:
        frames, fps = read_video(path, size=size)
    except TrajkitError as exc:
        raise TrajkitError(f"field 'camera.video': {exc}") from exc
    K = intrinsics_from_fov(size, cs.hfov) if "hfov" in cs.model_fields_set else None
    try:
        camera = estimate_camera(frames, fps=fps, K=K, method=cs.method)
    except TrajkitError as exc:
        raise TrajkitError(f"field 'camera.video': {path.name}: {exc}") from exc
    notes.append(f"camera estimated from {path.name} ({camera.meta.get('method', cs.method)}, "
                 f"{'known' if K is not None else 'estimated'} focal length, scale unknown)")
    return camera
