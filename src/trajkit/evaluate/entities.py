"""Entity adherence: does each entity move along its projected path?

3DTrajMaster judges its videos by the entities' 6-DoF pose error against the requested paths (with a pose estimator
in the loop). From a video alone trajkit measures what is observable on the image: each entity's requested path is
bridged to 2D tracks (its anchor, then footprint points around it — :mod:`trajkit.bridge.entities_to_tracks`), the
video is tracked from those tracks' first visible positions, and the two are compared per entity:

* ``anchor_epe_px``: mean end-point error of the anchor track (the entity's projected pivot or ground contact);
* ``points_epe_px``: mean end-point error over all of the entity's tracks;
* ``path_error_px``: mean distance between the requested and measured *centroids* of the entity's visible points
  per frame — the projected path of the entity as a whole, robust to one footprint point slipping;
* ``delta_avg``: TAP-Vid's δ-average (see :mod:`trajkit.evaluate.tracks`) over the entity's tracks;
* ``adherent``: ``path_error_px`` within ``tolerance`` (default 4 % of the canvas diagonal).

Errors are counted where the requested point is visible and not at its query frame, as in
:mod:`trajkit.evaluate.tracks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import TrajkitError
from ..core.tracks import Tracks
from .tracks import endpoint_errors, evaluated_mask, track_metrics


def entity_adherence(requested: Tracks, measured: Tracks, groups: Sequence[tuple[str, int, int]], *,
                     query_frames: Sequence[int] | np.ndarray | None = None,
                     tolerance_pct: float = 4.0) -> list[dict[str, Any]]:
    """One dict per ``(name, start, stop)`` group of track indices (anchor first), in canvas pixels."""
    if requested.size is None:
        raise TrajkitError("entity adherence: the requested tracks need a canvas size")
    err = endpoint_errors(requested, measured)
    mask = evaluated_mask(requested, query_frames)
    req_xy, mea_xy = np.asarray(requested.xy, np.float64), np.asarray(measured.xy, np.float64)
    diagonal = float(np.hypot(*requested.size))
    q_all = np.asarray(requested.visible).argmax(axis=0) if query_frames is None else np.asarray(query_frames)
    results = []
    for name, start, stop in groups:
        if not 0 <= start < stop <= requested.num_tracks:
            raise TrajkitError(f"entity adherence: group {name!r} spans tracks {start}:{stop} of "
                               f"{requested.num_tracks}")
        sel = slice(start, stop)
        m = mask[:, sel]
        row: dict[str, Any] = {"name": name, "tracks": stop - start}
        if not m.any():
            row.update(error="never visible after its first frame")
            results.append(row)
            continue
        anchor = m[:, 0]
        counts = m.sum(axis=1)
        frames = counts > 0
        centre_req = (req_xy[:, sel] * m[..., None]).sum(axis=1)[frames] / counts[frames, None]
        centre_mea = (mea_xy[:, sel] * m[..., None]).sum(axis=1)[frames] / counts[frames, None]
        path_err = np.linalg.norm(centre_mea - centre_req, axis=-1)
        sub = track_metrics(requested.select(np.arange(start, stop)), measured.select(np.arange(start, stop)),
                            query_frames=q_all[sel])
        row.update(
            anchor_epe_px=float(err[:, start][anchor].mean()) if anchor.any() else None,
            points_epe_px=float(err[:, sel][m].mean()),
            path_error_px=float(path_err.mean()),
            path_error_max_px=float(path_err.max()),
            delta_avg=sub["delta_avg"],
            adherent=bool(path_err.mean() <= tolerance_pct / 100.0 * diagonal),
        )
        results.append(row)
    return results
