"""The studio for daily use, in a real browser (issue 16, items 7 and 8): feedback that is clear, kept whole and
cleared after a success; zoom and pan in image pixels; circle radius handles and legible frame labels; the camera
plot full size; video projects renamed, previewed, reloaded and deleted; the director's first load showing
progress; API docs that work offline. Screenshots go to artifacts/studio/.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api")

from browser import correlation, doc, message, to_image, upload_project


# ---------------------------------------------------------------------------------------------- issue 16, item 7
def test_feedback_is_clear_kept_whole_and_cleared_after_success(page, live_studio, studio_image):
    page.goto(live_studio.url + "/")  # no project open
    page.wait_for_function("() => window.studio && !window.studio.state.project")
    page.click("[data-export=ati-pth]")
    page.wait_for_function("() => !document.querySelector('#message').hidden")
    text = message(page)
    assert "open an image first" in text and "TypeError" not in text

    upload_project(page, studio_image)  # a project without tracks: its export is refused with a message
    assert message(page) is None  # opening the project succeeded: the old error went away
    page.click("[data-export=ati-pth]")
    page.wait_for_function("() => !document.querySelector('#message').hidden")
    assert "no tracks" in message(page)
    page.click("[data-tool=static]")
    box = page.locator("#canvas").bounding_box()
    page.mouse.click(box["x"] + 50, box["y"] + 50)
    page.wait_for_function("() => window.studio.state.doc.tracks.length === 1")
    with page.expect_download() as download:
        page.click("[data-export=ati-pth]")
    assert download.value.suggested_filename == "tracks.pth"
    assert message(page) is None  # the export worked: its earlier error is gone

    # fps is bounded in the page: 1000 becomes 120 with a message, and the document still samples
    page.locator("#fps").fill("1000")
    page.locator("#fps").press("Enter")
    page.wait_for_function("() => window.studio.state.doc.fps === 120")
    assert "fps" in message(page) and "120" in message(page)
    page.wait_for_function("() => window.studio.state.sampledFor === window.studio.state.doc")
    page.locator("#fps").fill("16")
    page.locator("#fps").press("Enter")
    page.wait_for_function("() => window.studio.state.doc.fps === 16 && document.querySelector('#message').hidden")

    # a grammar error keeps its lines: the quoted text, then a caret under the mistake ('lft')
    page.click("[data-tab=camera]")
    wrong = "dolly in 1m over 3s, then pan lft 20deg"
    page.fill("#camera-text", wrong)
    page.click("#camera-apply")
    page.wait_for_function("() => !document.querySelector('#message').hidden")
    lines = message(page).split("\n")
    quoted = next(i for i, line in enumerate(lines) if line.strip() == wrong)
    assert lines[quoted + 1].index("^") == lines[quoted].index("lft")
    page.fill("#camera-text", "dolly in 1m over 3s, then pan left 20deg")
    page.click("#camera-apply")
    page.wait_for_function("() => window.studio.state.sampled.tracks.some(t => t.source === 'camera')")
    page.wait_for_function("() => document.querySelector('#camera-plot').naturalWidth > 100")
    assert message(page) is None  # the old error is cleared by the success
    assert not page.errors, page.errors  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------- issue 16, item 8
def test_zoom_and_pan_keep_points_in_image_pixels(page, studio_image, artifacts, tmp_path):
    from PIL import Image

    image = Image.open(studio_image).convert("L")
    size = image.size
    upload_project(page, studio_image)
    page.click("[data-tab=tracks]")
    page.click("[data-tool=static]")
    box = page.locator("#canvas").bounding_box()
    fit = size[0] / box["width"]  # image px per screen px before zooming
    s0 = (int(box["x"] + box["width"] / 2) - 90, int(box["y"] + box["height"] / 2) + 40)
    target = to_image(box, size, *s0)  # the image point under s0 at fit

    # wheel zoom about the cursor: the point under it stays there
    page.mouse.move(*s0)
    for _ in range(3):
        page.mouse.wheel(0, -500)
    page.wait_for_function("() => window.studio.editor.view.zoom > 4")
    assert page.locator("#canvas").bounding_box() == box  # the canvas stays; its view zooms
    # middle-button drag, then a drag with space held: the image follows the mouse
    page.mouse.move(*s0)
    page.mouse.down(button="middle")
    page.mouse.move(s0[0] + 150, s0[1] - 90, steps=5)
    page.mouse.up(button="middle")
    s1 = (s0[0] + 150, s0[1] - 90)
    page.mouse.move(*s1)
    page.keyboard.down(" ")
    page.mouse.down()
    page.mouse.move(s1[0] - 60, s1[1] + 45, steps=5)
    page.mouse.up()
    page.keyboard.up(" ")
    s2 = (s1[0] - 60, s1[1] + 45)
    assert doc(page)["tracks"] == []  # panning with the static tool active placed nothing
    assert not page.evaluate("() => window.studio.state.playing")  # and space (held to pan) did not play

    # what is shown around s2 is the image around `target`, at the zoomed scale (checked below)
    half = 60
    shot = tmp_path / "zoomed.png"
    page.screenshot(path=str(shot), clip={"x": s2[0] - half, "y": s2[1] - half, "width": 2 * half, "height": 2 * half})
    page.mouse.click(*s2)
    page.mouse.click(s2[0] + 100, s2[1])
    page.wait_for_function("() => window.studio.state.doc.tracks.length === 2")
    page.screenshot(path=str(artifacts / "zoomed.png"))
    first, second = (np.array(t["point"]) for t in doc(page)["tracks"])
    assert np.abs(first - target).max() < 0.01  # placed exactly where it was under the cursor before zooming
    per_screen_px = np.linalg.norm(second - first) / 100
    assert abs(second[1] - first[1]) < 1e-6 and per_screen_px < fit / 4  # really zoomed, in x as in y

    seen = np.asarray(Image.open(shot).convert("L").resize((2 * half, 2 * half)))

    def expected(shift: float) -> np.ndarray:
        cx, cy = target[0] + shift * per_screen_px, target[1]
        r = half * per_screen_px
        return np.asarray(image.crop((round(cx - r), round(cy - r), round(cx + r), round(cy + r)))
                          .resize((2 * half, 2 * half), Image.BILINEAR))

    assert correlation(seen, expected(0)) > 0.9
    assert correlation(seen, expected(0)) > correlation(seen, expected(20)) + 0.1  # and the check can tell
    page.keyboard.press(" ")  # a space tap still plays and pauses
    assert page.evaluate("() => window.studio.state.playing")
    page.keyboard.press(" ")
    assert not page.evaluate("() => window.studio.state.playing")
    page.click("#zoom")  # back to fit
    page.wait_for_function("() => window.studio.editor.view.zoom === 1")
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_circle_radius_handles_and_legible_frame_labels(page, studio_image, artifacts):
    from PIL import Image

    size = Image.open(studio_image).size
    upload_project(page, studio_image)
    page.click("[data-tool=circle]")
    box = page.locator("#canvas").bounding_box()
    k = size[0] / box["width"]  # image px per screen px
    page.mouse.click(box["x"] + 400, box["y"] + 300)
    page.wait_for_function("() => window.studio.state.doc.tracks.length === 1")
    page.click("[data-tool=select]")
    circle = doc(page)["tracks"][0]
    centre = np.array(circle["center"])

    def screen(p):
        return box["x"] + p[0] / k, box["y"] + p[1] * box["height"] / size[1]

    # radius handles sit on the start and end circles, 35 % and 65 % of the way from the first point to the next
    for key, fraction, push in (("radius_start", 0.35, 40), ("radius_end", 0.65, -25)):
        a = 2 * np.pi / circle["count"] * fraction
        direction = np.array([np.cos(a), np.sin(a)])
        handle = centre + circle[key] * direction
        hx, hy = screen(handle)
        to = (round(hx + push * direction[0]), round(hy + push * direction[1]))
        page.mouse.move(hx, hy)
        page.mouse.down()
        page.mouse.move(*to, steps=5)
        page.mouse.up()
        moved = handle + np.array([to[0] - hx, to[1] - hy]) * [k, size[1] / box["height"]]
        page.wait_for_function(f"() => window.studio.state.doc.tracks[0].{key} !== {circle[key]}")
        assert doc(page)["tracks"][0][key] == pytest.approx(np.linalg.norm(moved - centre), abs=0.02)
        assert doc(page)["tracks"][0]["center"] == circle["center"]  # the centre did not move
    after = doc(page)["tracks"][0]
    assert after["radius_start"] > circle["radius_start"] + 30 * k and after["radius_end"] < circle["radius_end"]

    # the labels: the radius handles say their frame and radius; frame labels never cover one another
    page.wait_for_function("() => window.studio.state.sampledFor === window.studio.state.doc")
    page.mouse.move(box["x"] - 20, box["y"] + 100)  # off the canvas: no hover read-out
    page.evaluate("() => window.studio.editor.draw()")
    labels = page.evaluate("() => window.studio.editor.labels.placed")
    texts = [b["text"] for b in labels]
    r0, r1 = (int(np.floor(after[key] + 0.5)) for key in ("radius_start", "radius_end"))  # as JS rounds
    assert f"frame 0 · r {r0}" in texts and f"frame 80 · r {r1}" in texts
    assert "0" in texts and "80" in texts
    for i, a in enumerate(labels):
        assert a["h"] >= 14  # 12 px text with padding
        for b in labels[i + 1:]:
            assert (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or a["y"] + a["h"] <= b["y"]
                    or b["y"] + b["h"] <= a["y"]), (a, b)
    sampled = page.evaluate("() => window.studio.state.sampled.tracks")
    for label in labels:
        if label["text"].isdigit():  # a frame label is anchored at that frame's sample of one of the circle's points
            f = int(label["text"])
            assert min(np.linalg.norm(np.subtract(screen(t["xy"][f]), [box["x"], box["y"]]) - label["anchor"])
                       for t in sampled) < 1
    page.screenshot(path=str(artifacts / "circle.png"), clip={"x": box["x"] + 250, "y": box["y"] + 150,
                                                            "width": 320, "height": 300})
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_camera_plot_opens_full_size(page, artifacts):
    page.wait_for_function("() => window.studio.state.project")
    page.click("[data-tab=camera]")
    page.fill("#camera-text", "orbit left 30deg over 3s, then pedestal up 0.3m")
    page.click("#camera-apply")
    page.wait_for_function("() => document.querySelector('#camera-plot').naturalWidth > 100")
    small = page.locator("#camera-plot").bounding_box()
    natural = page.evaluate("() => document.querySelector('#camera-plot').naturalWidth")
    assert small["width"] < natural / 3  # the sidebar squeezes it
    page.click("#camera-plot")
    page.wait_for_function("() => document.querySelector('#plot-dialog').open")
    page.wait_for_function("() => document.querySelector('#plot-large').complete")
    large = page.locator("#plot-large").bounding_box()
    assert large["width"] >= natural  # at least its own resolution
    page.screenshot(path=str(artifacts / "camera-plot.png"))
    page.click("#plot-close")
    page.wait_for_function("() => !document.querySelector('#plot-dialog').open")
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_a_video_project_renamed_previewed_reloaded_and_deleted(page, live_studio, tmp_path):
    from PIL import Image

    from trajkit.viz.video import write_mp4

    # a clip whose first frame (red | blue) differs from the rest (green): the project's image is the first frame
    frames = np.zeros((12, 120, 160, 3), np.uint8)
    frames[:, :, :, 1] = 200
    frames[0] = 0
    frames[0, :, :80, 0] = 220
    frames[0, :, 80:, 2] = 220
    clip = tmp_path / "clip.mp4"
    write_mp4(clip, frames, 16)
    pid = upload_project(page, clip)
    assert page.evaluate("() => [window.studio.state.project.image.width, window.studio.state.project.image.height]") \
        == [160, 120]
    png = tmp_path / "image.png"
    png.write_bytes(page.request.get(f"{live_studio.url}/api/projects/{pid}/image").body())
    image = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert np.abs(image - frames[0]).mean() < 12 and np.abs(image - frames[1]).mean() > 60

    # rename: type a name, press Enter
    page.locator("#project-name").fill("the clip, renamed")
    page.locator("#project-name").press("Enter")
    page.wait_for_function("() => [...document.querySelectorAll('#projects option')]"
                           ".some(o => o.textContent.startsWith('the clip, renamed'))")
    assert page.request.get(f"{live_studio.url}/api/projects/{pid}").json()["name"] == "the clip, renamed"

    # the last preview comes back after a reload
    page.evaluate("() => window.studio.app.addTrack({kind: 'static', point: [40, 30]})")
    page.click("#render")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('preview rendered')",
                           timeout=120_000)
    src = page.locator("#preview-video").get_attribute("src")
    assert src and f"/api/projects/{pid}/renders/" in src
    page.reload()
    page.wait_for_function(f"() => window.studio.state.project?.id === '{pid}'")
    page.wait_for_function(f"() => document.querySelector('#preview-video').getAttribute('src') === {src!r}")
    page.wait_for_function("() => document.querySelector('#preview-video').readyState >= 1")  # it loads

    # delete (confirmed): the page goes back to no project, the server forgets it
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-project")
    page.wait_for_function("() => !window.studio.state.project")
    assert page.request.get(f"{live_studio.url}/api/projects/{pid}").status == 404
    page.wait_for_function(f"() => ![...document.querySelectorAll('#projects option')].some(o => o.value === '{pid}')")
    assert not page.locator("#preview-video").get_attribute("src")
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_the_directors_first_load_shows_its_progress(page, studio_image, monkeypatch):
    import threading

    from trajkit.studio import director

    release = threading.Event()

    def slow_load(stage):  # stands in for importing torch and loading the weights
        stage("importing torch")
        release.wait(20)
        return object()

    monkeypatch.setattr(director, "DIRECTOR", director.DirectorLoader(load=slow_load))
    upload_project(page, studio_image)
    page.click("[data-tab=camera]")
    page.check("input[name=camera-kind][value=text]")
    page.wait_for_function("() => !document.querySelector('#director-status').hidden")
    shown = page.locator("#director-status").inner_text()
    assert "loading" in shown and "importing torch" in shown
    release.set()
    page.wait_for_function("() => document.querySelector('#director-status').hidden")
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_a_director_prompt_with_no_motion_word_shows_a_warning(page, studio_image, monkeypatch):
    import numpy as np

    from trajkit.core.camera import CameraPath, intrinsics_from_fov
    from trajkit.studio import director, document

    def static_director(text, num, seed, size, options):  # stands in for the model: a static camera for any text
        return [CameraPath.static(np.eye(4), intrinsics_from_fov(size, 60.0), size, frames=5, fps=30.0)]

    monkeypatch.setattr(director, "DIRECTOR", director.DirectorLoader(load=lambda stage: static_director))
    document._directed_camera.cache_clear()
    upload_project(page, studio_image)
    page.click("[data-tab=camera]")
    page.check("input[name=camera-kind][value=text]")
    page.fill("#camera-text", "banana telephone purple elephant")
    page.click("#camera-apply")
    page.wait_for_function("() => !document.querySelector('#camera-warning').hidden")
    assert "names no camera motion" in page.locator("#camera-warning").inner_text()
    page.fill("#camera-text", "slowly pan left")
    page.click("#camera-apply")
    page.wait_for_function("() => document.querySelector('#camera-warning').hidden")
    document._directed_camera.cache_clear()
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_api_docs_work_offline(page, live_studio, artifacts):
    context = page.context.browser.new_context(viewport={"width": 1200, "height": 900})
    outside: list[str] = []

    def only_local(route):
        if route.request.url.startswith(live_studio.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    docs = context.new_page()
    problems: list[str] = []
    docs.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    docs.goto(live_studio.url + "/docs")
    docs.wait_for_selector(".opblock-summary-path[data-path=\"/api/projects/{pid}/sample\"]", timeout=20_000)
    assert docs.locator(".opblock").count() > 15  # every route, rendered by Swagger UI
    docs.screenshot(path=str(artifacts / "docs.png"))
    context.close()
    assert not outside and not problems, (outside, problems)


def test_video_uploads_and_renames_refuse_what_they_cannot_use(page, live_studio, studio_image):
    def post_video(name: str, data: bytes):
        return page.request.post(f"{live_studio.url}/api/projects/video",
                                 multipart={"video": {"name": name, "mimeType": "video/mp4", "buffer": data}})

    # an HLS playlist named .mp4: FFmpeg's probe would open what it lists; it never gets that far
    playlist = post_video("clip.mp4", b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
    assert playlist.status == 415 and "MP4/MOV or WebM" in playlist.json()["detail"]
    broken = post_video("clip.mp4", b"\x00\x00\x00\x18ftypisom" + bytes(4000))  # an MP4 signature, no video in it
    assert broken.status == 415 and "video" in broken.json()["detail"]
    image = post_video("bear.mp4", studio_image.read_bytes())  # a JPEG is not a video, whatever its name
    assert image.status == 415
    pid = page.evaluate("() => window.studio.state.project?.id") or upload_project(page, studio_image)
    blank = page.request.patch(f"{live_studio.url}/api/projects/{pid}", data={"name": " \x01 "})
    assert blank.status == 422 and "name" in blank.json()["detail"]
    missing = page.request.patch(f"{live_studio.url}/api/projects/{'0' * 32}", data={"name": "x"})
    assert missing.status == 404
    assert page.request.patch(f"{live_studio.url}/api/projects/{pid}", data={"name": "<b>bear</b>"}).json()["name"] \
        == "bbear/b"  # cleaned as every project name is (no markup characters)
