"""Plots of cameras and entities (matplotlib, Agg; PNG out).

* :func:`camera_three_view` — GenDoP's three-view plot: front, top and side views of the camera path
  relative to its first pose, each camera a pyramid whose colour runs red → purple over time (``rainbow``
  from 1 to 0), axes ±1.1·max|t|. Displayed in GenDoP's axes (OpenGL: x right, y up, −z forward).
* :func:`entities_top_view` — 3DTrajMaster's scene from above, as a plot: entity paths on the ground
  (start ○, end ▶ facing), with the viewing camera's frustum.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.camera import CameraPath, invert_rigid
from ..core.conventions import opencv_to_opengl
from ..core.entities import EntityPaths
from ..formats._io import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

VIEWS = (("front", 90, -90), ("top", 180, -90), ("side", 0, 0))


def _figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, facecolor="white")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def camera_three_view(camera: CameraPath, path: str | os.PathLike[str] | None = None, *, every: int = 2,
                      size_px: int = 341) -> bytes:
    """PNG bytes (and a file when ``path`` is given) of the front / top / side views of ``camera``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    gl = opencv_to_opengl(camera.c2w)
    rel = (invert_rigid(gl[0]) @ gl)[::max(1, every)]  # relative to the first camera, in its OpenGL axes
    t = rel[:, :3, 3]
    rho = 1.1 * max(float(np.abs(t).max()), 1e-6)
    f = rho / 4
    base = np.array([[0.3 * f, 0.3 * f, -f], [-0.3 * f, 0.3 * f, -f], [-0.3 * f, -0.3 * f, -f],
                     [0.3 * f, -0.3 * f, -f]])
    colours = plt.get_cmap("rainbow")(np.linspace(1, 0, len(rel)))
    fig = plt.figure(figsize=(3 * size_px / 100, size_px / 100))
    for k, (name, elev, azim) in enumerate(VIEWS):
        ax = fig.add_subplot(1, 3, k + 1, projection="3d")
        for pose, colour in zip(rel, colours, strict=True):
            corners = base @ pose[:3, :3].T + pose[:3, 3]
            apex = pose[:3, 3]
            # Four vertices per face (each side triangle repeats a corner): given ragged faces, matplotlib pads them
            # with uninitialised memory that it then autoscales on and projects.
            faces = np.array([[apex, corners[i], corners[(i + 1) % 4], corners[(i + 1) % 4]] for i in range(4)]
                             + [corners])
            ax.add_collection3d(Poly3DCollection(faces, facecolors=colour, edgecolors=colour, linewidths=0.6,
                                                 alpha=0.2), autolim=False)
        ax.set_xlim(-rho, rho)
        ax.set_ylim(-rho, rho)
        ax.set_zlim(-rho, rho)
        ax.set_box_aspect((1, 1, 1))
        ax.view_init(elev=elev, azim=azim)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_zlabel("-z")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    png = _figure_png(fig)
    if path is not None:
        atomic_write_bytes(Path(path), png)
    return png


def _legend_label(prompt: str, index: int) -> str:
    """The first 40 printable characters of an entity prompt, drawn literally.

    Control characters would draw as boxes; ``$`` is escaped (matplotlib would parse ``$...$`` as mathtext and may
    raise on it); leading underscores are dropped (matplotlib leaves labels starting with ``_`` out of legends).
    """
    label = "".join(ch for ch in prompt if ch.isprintable())[:40].strip().lstrip("_").strip()
    return label.replace("$", r"\$") if label else f"entity {index}"


def entities_top_view(entities: EntityPaths, path: str | os.PathLike[str] | None = None) -> bytes:
    """PNG bytes (and a file when ``path`` is given) of the entity paths seen from above (x right, z up the page)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    colours = plt.get_cmap("tab10")(np.arange(entities.num_entities) % 10)
    for e in range(entities.num_entities):
        p = entities.positions[e]
        ax.plot(p[:, 0], p[:, 2], "-", color=colours[e], lw=2, label=_legend_label(entities.prompts[e], e))
        ax.plot(p[0, 0], p[0, 2], "o", color=colours[e], ms=7, mfc="white")
        facing = entities.poses[e, -1, :3, 2]
        ax.annotate("", xy=(p[-1, 0] + 0.6 * facing[0], p[-1, 2] + 0.6 * facing[2]), xytext=(p[-1, 0], p[-1, 2]),
                    arrowprops={"arrowstyle": "-|>", "color": colours[e], "lw": 2})
    if entities.camera is not None:
        cam = entities.camera
        w, _ = cam.size
        fx = cam.Ks[0][0, 0]
        reach = max(2.0, float(np.linalg.norm(entities.positions[..., [0, 2]] - cam.centers[0, [0, 2]], axis=-1).max()))
        for pose in cam.c2w[:: max(1, cam.num_frames // 8)]:
            c = pose[:3, 3]
            left = pose[:3, :3] @ np.array([-w / 2 / fx, 0, 1.0]) * reach * 0.3
            right = pose[:3, :3] @ np.array([w / 2 / fx, 0, 1.0]) * reach * 0.3
            ax.fill([c[0], c[0] + left[0], c[0] + right[0]], [c[2], c[2] + left[2], c[2] + right[2]], color="grey",
                    alpha=0.35)
            ax.plot(c[0], c[2], "s", color="black", ms=5)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (right, m)")
    ax.set_ylabel("z (forward, m)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_title("entities from above")
    fig.tight_layout()
    png = _figure_png(fig)
    if path is not None:
        atomic_write_bytes(Path(path), png)
    return png
