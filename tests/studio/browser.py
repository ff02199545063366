"""What the browser tests share: reading the page's state, mapping screen to image pixels, drawing, uploading."""

from __future__ import annotations

import numpy as np


def doc(page) -> dict:
    return page.evaluate("() => JSON.parse(JSON.stringify(window.studio.state.doc))")


def to_image(box: dict, size: tuple[int, int], x: float, y: float) -> tuple[float, float]:
    """Screen pixels → original-image pixels, as the page maps them."""
    return (x - box["x"]) * size[0] / box["width"], (y - box["y"]) * size[1] / box["height"]


def draw(page, points: list[tuple[int, int]]) -> None:
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=6)
    page.mouse.up()


def message(page) -> str | None:
    """The error box's text as the user sees it (``innerText``: line breaks only where they are rendered)."""
    box = page.locator("#message")
    return None if box.count() == 0 or box.is_hidden() else page.locator("#message-text").inner_text()


def upload_project(page, path) -> str:
    before = page.evaluate("() => window.studio.state.project?.id ?? ''")
    page.set_input_files("#upload", str(path))
    page.wait_for_function(f"() => window.studio.state.project && window.studio.state.project.id !== '{before}' "
                           "&& window.studio.editor.image")
    return page.evaluate("() => window.studio.state.project.id")


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))
