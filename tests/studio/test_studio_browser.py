"""The studio in a real browser: Playwright drives Debian's Chromium through a whole editing session.

Upload a photo, draw two freehand tracks and a static anchor with the mouse, re-time one, undo/redo, scrub the
timeline, save, reload, export and read the files back with trajkit's readers (coordinates in original-image pixels
within 0.5 px of what was drawn), render a preview and watch the video play. Screenshots go to artifacts/studio/.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api")

from browser import doc, draw, to_image


def test_an_editing_session_in_chromium(page, live_studio, studio_image, artifacts, tmp_path):
    from PIL import Image

    from trajkit.formats.registry import load
    from trajkit.viz.video import read_mp4

    size = Image.open(studio_image).size  # (3984, 2656): shown at ~1/4 scale, stored in these pixels
    page.set_input_files("#upload", str(studio_image))
    page.wait_for_function("() => window.studio.state.project && window.studio.editor.image")
    pid = page.evaluate("() => window.studio.state.project.id")
    box = page.locator("#canvas").bounding_box()
    assert box["width"] < size[0] / 2  # really scaled for display

    # two freehand tracks and a static anchor, drawn with the mouse
    page.click("[data-tool=free]")
    x0, y0 = int(box["x"]), int(box["y"])
    stroke1 = [(x0 + 100, y0 + 120), (x0 + 180, y0 + 150), (x0 + 260, y0 + 140), (x0 + 330, y0 + 200)]
    stroke2 = [(x0 + 420, y0 + 300), (x0 + 460, y0 + 240), (x0 + 520, y0 + 220)]
    draw(page, stroke1)
    page.wait_for_function("() => window.studio.state.doc.tracks.length === 1")
    draw(page, stroke2)
    page.wait_for_function("() => window.studio.state.doc.tracks.length === 2")
    page.click("[data-tool=static]")
    anchor = (x0 + 600, y0 + 100)
    page.mouse.click(*anchor)
    page.wait_for_function("() => window.studio.state.doc.tracks.length === 3")
    tracks = doc(page)["tracks"]
    assert [t["kind"] for t in tracks] == ["path", "path", "static"]
    assert tracks[0]["points"][0] == pytest.approx(to_image(box, size, *stroke1[0]), abs=0.01)
    assert tracks[0]["points"][-1] == pytest.approx(to_image(box, size, *stroke1[-1]), abs=0.01)
    assert 2 <= len(tracks[0]["points"]) < 40  # control points, not every mouse event

    # spline editing: double-click between two control points adds one there; Alt+click removes it again
    page.click("[data-tool=select]")
    page.click("#track-list li:nth-child(2)")
    count = len(tracks[1]["points"])
    a, b = tracks[1]["points"][0], tracks[1]["points"][1]
    mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]
    sx, sy = box["x"] + mid[0] * box["width"] / size[0], box["y"] + mid[1] * box["height"] / size[1]
    page.mouse.dblclick(sx, sy)
    page.wait_for_function(f"() => window.studio.state.doc.tracks[1].points.length === {count + 1}")
    inserted = doc(page)["tracks"][1]["points"][1]
    assert np.hypot(inserted[0] - mid[0], inserted[1] - mid[1]) < 2 * size[0] / box["width"]
    page.keyboard.down("Alt")
    page.mouse.click(sx, sy)
    page.keyboard.up("Alt")
    page.wait_for_function(f"() => window.studio.state.doc.tracks[1].points.length === {count}")
    page.click("#undo")
    page.click("#undo")
    assert doc(page)["tracks"][1]["points"] == tracks[1]["points"]

    # re-time the first track: ease in (the timing is set here, not by how fast the mouse moved)
    page.click("#track-list li:nth-child(1)")
    page.select_option("#speed", "ease-in")
    assert doc(page)["tracks"][0]["speed"] == "ease-in"
    page.click("#undo")
    assert doc(page)["tracks"][0]["speed"] == "linear"
    page.click("#undo")
    assert len(doc(page)["tracks"]) == 2
    page.click("#redo")
    page.click("#redo")
    after = doc(page)
    assert len(after["tracks"]) == 3 and after["tracks"][0]["speed"] == "ease-in"
    page.click("#track-list li:nth-child(2)")  # the second track: a custom speed curve (stop, rush, stop)
    page.locator("#speed-curve").fill("0, 2, 0")
    page.locator("#speed-curve").press("Enter")
    page.wait_for_function("() => Array.isArray(window.studio.state.doc.tracks[1].speed)")
    assert doc(page)["tracks"][1]["speed"] == [0, 2, 0]

    # scrub the timeline: the playhead and the frame index follow; eased motion lags the linear one at mid-clip
    page.click("#track-list li:nth-child(1)")
    page.wait_for_function("() => window.studio.state.sampledFor === window.studio.state.doc")  # latest edit sampled
    page.locator("#timeline").fill("40")
    assert page.locator("#frame-label").inner_text().startswith("frame 40 / 80")
    assert page.evaluate("() => window.studio.state.frame") == 40
    sampled = page.evaluate("() => window.studio.state.sampled.tracks")
    first = np.array(sampled[0]["xy"])
    travelled = np.linalg.norm(first[40] - first[0]) / np.linalg.norm(first[-1] - first[0])
    assert 0.05 < travelled < 0.45  # ease-in: well under half way at half time
    page.screenshot(path=str(artifacts / "editor.png"))

    # save, reload, find the same tracks
    page.click("#save")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('saved')")
    saved = doc(page)
    page.reload()
    page.wait_for_function(f"() => window.studio.state.project && window.studio.state.project.id === '{pid}'")
    assert doc(page) == saved

    # exports, read back with trajkit's own readers, in original-image pixels
    pth = tmp_path / "tracks.pth"
    pth.write_bytes(page.request.get(f"{live_studio.url}/api/projects/{pid}/export/ati-pth").body())
    comfy = tmp_path / "tracks.json"
    comfy.write_bytes(page.request.get(f"{live_studio.url}/api/projects/{pid}/export/comfyui-json").body())
    ati = load(pth, size=size)
    points = load(comfy, format="comfyui-json", size=size)
    assert ati.num_tracks == points.num_tracks == 3 and ati.size == size
    for tracks in (ati, points):
        for k, stroke in enumerate((stroke1, stroke2)):
            assert np.abs(tracks.xy[0, k] - to_image(box, size, *stroke[0])).max() <= 0.5
            assert np.abs(tracks.xy[-1, k] - to_image(box, size, *stroke[-1])).max() <= 0.5
        assert np.abs(tracks.xy[:, 2] - to_image(box, size, *anchor)).max() <= 0.5
    assert points.num_frames == 81 and ati.num_frames == 121

    # preview: rendered in the background, progress in the page, the video plays
    page.click("#render")
    page.wait_for_function("() => document.querySelector('#preview-video').currentTime > 0.3", timeout=120_000)
    assert page.locator("#render-progress").evaluate("p => p.value === p.max")
    src = page.locator("#preview-video").get_attribute("src")
    video = tmp_path / "preview.mp4"
    video.write_bytes(page.request.get(live_studio.url + src).body())
    frames, fps = read_mp4(video)
    assert frames.shape[0] == 81 and fps == pytest.approx(16)
    page.screenshot(path=str(artifacts / "preview.png"))
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_camera_and_entity_tabs_bridge_into_tracks(page, live_studio, artifacts):
    page.wait_for_function("() => window.studio.state.project")
    page.click("[data-tab=camera]")
    page.fill("#camera-text", "pan left 15deg over 3s")
    page.click("#camera-apply")
    page.wait_for_function("() => window.studio.state.sampled.tracks.some(t => t.source === 'camera')")
    page.wait_for_function("() => document.querySelector('#camera-plot').naturalWidth > 100")
    cams = page.evaluate("() => window.studio.state.sampled.tracks.filter(t => t.source === 'camera').length")
    assert cams == 64  # the 8 × 8 grid
    page.click("[data-tab=entities]")
    page.locator("#entity-rows .entity-prompt").first.fill("a red fox trotting")
    page.click("#entities-apply")
    page.wait_for_function("() => window.studio.state.sampled.tracks.some(t => t.source === 'entities')")
    page.wait_for_function("() => document.querySelector('#entities-plot').naturalWidth > 100")
    # Two default entities (issue 16 item 9): every sample of both inside the image, not all on one height.
    page.locator("#entity-rows .entity-shape").nth(1).select_option("circle")
    page.click("#entities-apply")
    page.wait_for_function("() => window.studio.state.doc.entities?.templates.length === 2 && "
                           "window.studio.state.sampledFor === window.studio.state.doc")
    w, h = page.evaluate("() => [window.studio.editor.image.naturalWidth, window.studio.editor.image.naturalHeight]")
    xy = np.array(page.evaluate("() => window.studio.state.sampled.tracks.filter(t => t.source === 'entities')"
                                ".flatMap(t => t.xy.filter((q, i) => t.visible[i]))"))
    assert len(xy) and (xy >= 0).all() and (xy[:, 0] <= w).all() and (xy[:, 1] <= h).all()
    assert np.ptp(xy[:, 1]) > 0.05 * h
    page.screenshot(path=str(artifacts / "camera-entities.png"))
    page.click("#undo")
    page.wait_for_function("() => window.studio.state.doc.entities?.templates.length === 1")
    page.click("#undo")
    page.wait_for_function("() => !window.studio.state.doc.entities")
    assert page.evaluate("() => window.studio.state.doc.camera.moves") == "pan left 15deg over 3s"
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_importing_keeps_unsaved_edits(page, studio_image, tmp_path):
    from PIL import Image

    from trajkit.core.tracks import Tracks
    from trajkit.formats.registry import save

    page.wait_for_function("() => window.studio.state.project")
    page.evaluate("() => window.studio.app.addTrack({kind: 'static', point: [50, 60]})")  # an edit, not saved
    before = doc(page)
    assert page.evaluate("() => window.studio.state.dirty")
    path = tmp_path / "imported.json"
    save(Tracks(xy=np.full((10, 2, 2), 300.0), visible=np.ones((10, 2), bool), size=Image.open(studio_image).size,
                fps=16.0), path, format="trajkit-json")
    page.set_input_files("#import", str(path))
    page.wait_for_function(f"() => window.studio.state.doc.tracks.length === {len(before['tracks']) + 2}")
    after = doc(page)
    assert after["tracks"][: len(before["tracks"])] == before["tracks"]  # the unsaved track is still there
    assert after["camera"] == before["camera"] and after["entities"] == before["entities"]
    assert [t["kind"] for t in after["tracks"][-2:]] == ["sampled", "sampled"]
    assert not page.errors, page.errors  # type: ignore[attr-defined]
