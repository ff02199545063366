"""Camera three-view and entity plots: structure compared with GenDoP's own reference plots."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import trajkit
from trajkit.viz.plots import camera_three_view, entities_top_view


def _panel_direction(rgb: np.ndarray, panel: int) -> np.ndarray:
    """Direction (dx, dy) in image pixels from the red (first) cameras to the violet/blue (last) ones."""
    w = rgb.shape[1] // 3
    p = rgb[:, panel * w:(panel + 1) * w].astype(int)
    r, g, b = p[..., 0], p[..., 1], p[..., 2]
    red = (r > 200) & (g < 160) & (b < 160)
    late = (b > 200) & (r < 170) & (g < 170)
    assert red.sum() > 20 and late.sum() > 5
    ys, xs = np.nonzero(red)
    ye, xe = np.nonzero(late)
    return np.array([xe.mean() - xs.mean(), ye.mean() - ys.mean()])


@pytest.mark.parametrize("case", [1, 2, 3])
def test_three_view_matches_gendop_reference_layout(data_dir: Path, tmp_path: Path, case: int) -> None:
    folder = data_dir / "gendop" / "text_rgbd"
    cam = trajkit.load(folder / f"case{case}_transforms_cleaning.json")
    png = camera_three_view(cam, tmp_path / "camera.png")
    ours = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    ref = np.asarray(Image.open(folder / f"case{case}_traj_cleaning.png").convert("RGB"))
    assert ours.shape[1] == pytest.approx(3 * ours.shape[0], rel=0.05)  # three square panels side by side
    assert (tmp_path / "camera.png").read_bytes() == png
    for panel in (0, 1):  # front and top views (GenDoP rotates its side view; ours is not rotated)
        a, b = _panel_direction(ours, panel), _panel_direction(ref, panel)
        cos = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
        assert cos > 0.7, (panel, a, b)


def test_entities_top_view(data_dir: Path, tmp_path: Path) -> None:
    ents = trajkit.load(data_dir / "trajmaster" / "D_loc1_61_t3n13_003d_Hemi12_1.json")
    png = entities_top_view(ents, tmp_path / "entities.png")
    img = Image.open(io.BytesIO(png))
    assert img.size == (600, 600)
    rgb = np.asarray(img.convert("RGB")).astype(int)
    blue = (rgb[..., 2] > 150) & (rgb[..., 0] < 80) & (rgb[..., 1] > 80) & (rgb[..., 1] < 160)
    assert blue.sum() > 100  # entity 0's path (tab10 blue) is drawn


@pytest.mark.parametrize(("move", "expected"), [((0.0, -1.0, 0.0), (1.0, 0.0)), ((0.0, 0.0, 1.0), (0.0, 1.0))])
def test_three_view_side_panel_is_seen_from_plus_x(move: tuple[float, float, float],
                                                   expected: tuple[float, float]) -> None:
    """The side panel is ``view_init(elev=0, azim=0)``: the eye on +x looking at the origin, z up, so +y (GL)
    runs to the right (right = forward × up = (−1, 0, 0) × (0, 0, 1) = +y) and +z up the page. Relative to the
    first camera in GL axes, rising (OpenCV −y) is GL +y: to the right; pushing in (OpenCV +z) is GL −z: down."""
    from trajkit.core.camera import CameraPath, intrinsics_from_fov

    frames = 41
    c2w = np.tile(np.eye(4), (frames, 1, 1))
    c2w[:, :3, 3] = np.linspace(0, 1, frames)[:, None] * np.array(move)
    cam = CameraPath(c2w=c2w, K=intrinsics_from_fov((512, 288), 60.0), size=(512, 288), fps=16)
    ours = np.asarray(Image.open(io.BytesIO(camera_three_view(cam))).convert("RGB"))
    d = _panel_direction(ours, 2)
    cos = d @ np.array(expected) / np.linalg.norm(d)
    assert cos > 0.95, (d, expected)


def _capture_figure(monkeypatch: pytest.MonkeyPatch) -> list:
    """Make the plots module hand over each figure after it is drawn to PNG (axes limits final)."""
    from trajkit.viz import plots

    figures: list = []
    figure_png = plots._figure_png

    def spy(fig: object) -> bytes:
        png = figure_png(fig)
        figures.append(fig)
        return png

    monkeypatch.setattr(plots, "_figure_png", spy)
    return figures


def test_entities_top_view_draws_each_path_where_its_x_z_land(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen from above: x to the right, z (forward) up the page. Every 5th position of each entity, mapped through
    the axes' data transform, must fall on its tab10 colour in the PNG."""
    import matplotlib.pyplot as plt

    figures = _capture_figure(monkeypatch)
    ents = trajkit.load(data_dir / "trajmaster" / "D_loc1_61_t3n13_003d_Hemi12_1.json")
    rgb = np.asarray(Image.open(io.BytesIO(entities_top_view(ents))).convert("RGB")).astype(float)
    ax = figures[0].axes[0]
    to_px = 100 / figures[0].dpi  # the PNG is written at 100 dpi
    height = rgb.shape[0]

    def pixel(x: float, z: float) -> np.ndarray:
        dx, dy = ax.transData.transform((x, z)) * to_px
        return np.array([height - dy, dx])  # (row, column)

    origin, right, forward = pixel(0, 0), pixel(1, 0), pixel(0, 1)
    assert right[1] > origin[1] and abs(right[0] - origin[0]) < 1  # +x: to the right
    assert forward[0] < origin[0] and abs(forward[1] - origin[1]) < 1  # +z: up the page
    colours = plt.get_cmap("tab10")(np.arange(ents.num_entities))[:, :3] * 255
    for e in range(ents.num_entities):
        hits = []
        for x, _, z in ents.positions[e, 2:-2:5]:
            r, c = np.round(pixel(x, z)).astype(int)
            window = rgb[r - 3:r + 4, c - 3:c + 4].reshape(-1, 3)
            hits.append(np.linalg.norm(window - colours[e], axis=1).min() < 60)
        assert np.mean(hits) > 0.8, (e, np.mean(hits))


def test_three_view_ignores_uninitialised_face_padding(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib pads ragged 3-D faces with ``np.empty``; whatever that memory holds must not reach the axis limits."""
    import types

    from mpl_toolkits.mplot3d import art3d

    def poisoned_empty(*args: object, **kwargs: object) -> np.ndarray:
        out = np.empty(*args, **kwargs)
        out.fill(np.finfo(np.float64).max)  # huge finite garbage: what overflowed the limits on CI
        return out

    poisoned_np = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    poisoned_np.empty = poisoned_empty
    monkeypatch.setattr(art3d, "np", poisoned_np)
    cam = trajkit.load(data_dir / "gendop" / "text_rgbd" / "case2_transforms_cleaning.json")
    png = camera_three_view(cam)
    assert Image.open(io.BytesIO(png)).size[0] > 0


def test_entity_legend_drops_control_characters_and_falls_back_to_the_index() -> None:
    from trajkit.viz.plots import _legend_label

    assert _legend_label("a red\x00 car\x99 driving", 0) == "a red car driving"
    assert _legend_label("\x0e\x1b", 2) == "entity 2"
    assert len(_legend_label("x" * 100, 0)) == 40


def test_entity_legend_shows_dollar_signs_and_underscores_literally(data_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``$`` in a prompt is not mathtext (``$x^$`` used to raise) and ``_name`` is not dropped from the legend."""
    from trajkit.viz import plots

    ents = trajkit.load(data_dir / "trajmaster" / "D_loc1_61_t3n13_003d_Hemi12_1.json")
    ents = ents.replace(prompts=["cost $x^$ y", "_hidden fox", r"a \$ sign"])
    legends: list[list[str]] = []
    figure_png = plots._figure_png

    def spy(fig: object) -> bytes:  # records the legend before the figure is closed
        legends.append([t.get_text() for t in fig.axes[0].get_legend().get_texts()])
        return figure_png(fig)

    monkeypatch.setattr(plots, "_figure_png", spy)
    png = entities_top_view(ents)
    assert Image.open(io.BytesIO(png)).size == (600, 600)
    assert len(legends[0]) == 3
    assert plots._legend_label("cost $x^$ y", 0) == r"cost \$x^\$ y"
    assert plots._legend_label("__hidden", 1) == "hidden" and plots._legend_label("_", 4) == "entity 4"
