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
