"""Saving checks what rendering and exporting will need (issue 16 item 3), and entities placed from the default
templates stay in the image (item 9)."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trajkit.studio.app import create_app

W, H = 960, 540


def png_bytes(w: int = W, h: int = H) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (90, 120, 60)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return TestClient(create_app(tmp_path_factory.mktemp("ws")))


@pytest.fixture(scope="module")
def pid(client: TestClient) -> str:
    r = client.post("/api/projects", files={"image": ("p.png", png_bytes(), "image/png")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def put_raw(client: TestClient, pid: str, body: str):
    """A save with a body as written (JSON's NaN and Infinity included, which browsers' JSON cannot send)."""
    return client.put(f"/api/projects/{pid}", content=body, headers={"Content-Type": "application/json"})


def entities(template: str) -> str:
    return '{"document": {"frames": 9, "entities": {"templates": [' + template + "]}}}"


@pytest.mark.parametrize(("template", "field"), [
    ('{"shape": "spin", "prompt": "a fox", "params": {"degrees": NaN}}', "degrees"),
    ('{"shape": "spin", "prompt": "a fox", "params": {"degrees": Infinity}}', "degrees"),
    ('{"shape": "arc", "prompt": "a fox", "params": {"radius": -Infinity}}', "radius"),
    ('{"shape": "spin", "prompt": "a fox", "params": {"degrees": 1e300}}', "degrees"),
    ('{"shape": "straight", "prompt": "a fox", "params": {"length": 1e12}}', "length"),
    ('{"shape": "straight", "prompt": "a fox", "params": {"degrees": 90}}', "degrees"),
    ('{"shape": "spin", "prompt": "a fox", "params": {"bogus": 1}}', "bogus"),
    ('{"shape": "zigzag", "prompt": "a fox", "params": {"count": 2.5}}', "count"),
    ('{"shape": "circle", "prompt": "a fox", "params": {"clockwise": 3}}', "clockwise"),
])
def test_save_refuses_template_parameters_that_cannot_be_rendered(client, pid, template, field):
    before = client.get(f"/api/projects/{pid}").json()["revision"]
    r = put_raw(client, pid, entities(template))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "entities.templates.0" in detail and field in detail, detail
    assert client.get(f"/api/projects/{pid}").json()["revision"] == before  # nothing was saved


TRACK = {"id": "a", "kind": "path", "points": [[1, 1], [30, 20]]}


@pytest.mark.parametrize(("document", "field"), [
    ({"tracks": [{**TRACK, "speed": [0, 0, 0]}]}, "speed"),  # a speed curve that never moves
    ({"tracks": [{"id": "s", "kind": "sampled", "xy": [[1, 1], [2, 2]], "visible": [True]}]}, "visibility"),
    ({"tracks": [{**TRACK, "edits": [{"frame": 2, "dx": 5, "dy": 5, "sigma": 5e-324}]}]}, "sigma"),  # σ² = 0
    ({"camera": {"text": ""}}, "text"),
    ({"camera": {"text": "   "}}, "text"),
])
def test_save_refuses_tracks_and_cameras_that_cannot_be_rendered(client, pid, document, field):
    r = client.put(f"/api/projects/{pid}", json={"document": {"frames": 9, **document}})
    assert r.status_code == 422 and field in r.json()["detail"], r.text


def test_save_has_the_director_read_a_camera_text(client, pid, monkeypatch):
    long = " ".join(["slowly"] * 60) + " push in"  # more word pieces than the embedded director reads (48)
    r = client.put(f"/api/projects/{pid}", json={"document": {"frames": 9, "camera": {"text": long}}})
    assert r.status_code == 422 and "camera.text" in r.json()["detail"] and "48" in r.json()["detail"], r.text
    ok = client.put(f"/api/projects/{pid}", json={"document": {"frames": 9, "camera": {"text": "pan left"}}})
    assert ok.status_code == 200
    from trajkit.studio import director, document

    def missing(stage):
        raise OSError("no weights here")

    monkeypatch.setattr(director, "DIRECTOR", director.DirectorLoader(missing))
    document._directed_camera.cache_clear()
    # without a director the work is still saved; rendering and the page say what is missing
    kept = client.put(f"/api/projects/{pid}", json={"document": {"frames": 9, "camera": {"text": "tilt up"}}})
    assert kept.status_code == 200
    assert client.get(f"/api/projects/{pid}/export/trajkit-json").status_code == 503
    document._directed_camera.cache_clear()


def test_save_refuses_camera_moves_that_cannot_be_rendered(client, pid):
    bad = client.put(f"/api/projects/{pid}", json={"document": {"camera": {"moves": "wobble left 3deg"}}})
    assert bad.status_code == 422 and "camera.moves" in bad.json()["detail"] and "wobble" in bad.json()["detail"]
    # 10⁸ s at 16 fps would be rendered as 1.6 · 10⁹ camera poses before being fitted onto the document's frames
    long = client.put(f"/api/projects/{pid}", json={"document": {"camera": {"moves": "pan left 9deg over 99999999s"}}})
    assert long.status_code == 422 and "frames" in long.json()["detail"], long.text
    ok = client.put(f"/api/projects/{pid}", json={"document": {"frames": 9, "camera": {"moves": "pan left 9deg"}}})
    assert ok.status_code == 200


SHAPE_PARAMS = {"straight": ["length", "direction"], "arc": ["radius", "degrees", "direction"],
                "turn": ["degrees", "leg", "direction"], "spin": ["degrees", "direction"],
                "circle": ["radius", "clockwise"], "zigzag": ["length", "width", "count", "direction"]}
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.booleans(),
                   st.sampled_from([1e300, -1e300, 5e-324, 1000.0, 3600.0, -360.0, 100, 0]))


@st.composite
def templates(draw: st.DrawFn) -> dict:
    shape = draw(st.sampled_from(sorted(SHAPE_PARAMS)))
    names = draw(st.lists(st.sampled_from([*SHAPE_PARAMS[shape], "bogus"]), unique=True, max_size=3))
    return {"shape": shape, "prompt": "a fox", "params": {n: draw(VALUES) for n in names}}


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(template=templates(), frames=st.integers(2, 200))
def test_whatever_save_accepts_can_be_exported(client, pid, template, frames):
    """Save is the gate: a document it accepts renders and exports (no 422 later); one it refuses is refused with
    the parameter named (never a 500)."""
    body = json.dumps({"document": {"frames": frames, "entities": {"templates": [template]}}})
    saved = put_raw(client, pid, body)
    assert saved.status_code in (200, 422), saved.text
    if saved.status_code == 422:
        detail = saved.json()["detail"]
        assert any(name in detail for name in template["params"]), detail
        return
    exported = client.get(f"/api/projects/{pid}/export/trajkit-json")
    assert exported.status_code == 200, (template, exported.text)
    tracks = json.loads(exported.content)
    assert np.isfinite(np.asarray(tracks["xy"], dtype=np.float64)).all()


def test_any_document_the_schema_allows_and_save_accepts_can_be_exported(client, pid):
    """Documents drawn from the API's own schema (schemathesis, valid data only): whatever save accepts exports."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import Phase

    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
    refused = []

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(case=schema["/api/projects/{pid}"]["PUT"].as_strategy())
    def save_then_export(case):
        if client.put(f"/api/projects/{pid}", json={"document": case.body["document"]}).status_code == 200:
            exported = client.get(f"/api/projects/{pid}/export/trajkit-json")
            if exported.status_code not in (200, 409):  # 409: no tracks at all
                refused.append((case.body["document"], exported.text))

    save_then_export()
    assert not refused, refused[:2]


def rig_pixel(lateral: float, depth: float, camera_height: float) -> tuple[float, float]:
    """Where a ground point ``lateral`` m right and ``depth`` m ahead lands in the W × H image, by hand: a pinhole
    with 3DTrajMaster's lens (35 mm on a 23.76 mm-wide sensor, 720×480 stretched to W × H) pitched down asin(0.0933407),
    standing ``camera_height`` m above the ground."""
    pitch = math.asin(0.0933407)
    down = camera_height * math.cos(pitch) - depth * math.sin(pitch)  # camera y (down)
    ahead = camera_height * math.sin(pitch) + depth * math.cos(pitch)  # camera z (forward)
    focal = 35.0 / 23.76 * 720
    return W / 2 + focal * W / 720 * lateral / ahead, H / 2 + focal * H / 480 * down / ahead


def test_default_entity_templates_stay_in_the_rig_cameras_view(client, pid):
    defaults = client.get("/api/entity-templates").json()["templates"]
    assert sorted(defaults) == sorted(SHAPE_PARAMS)
    for camera_height in (1.0, 1.5, 2.0):
        for count in (1, 2):
            for shape in SHAPE_PARAMS:
                doc = {"frames": 49, "entities": {"templates": [{"shape": shape, "prompt": f"entity {k}"}
                                                                for k in range(count)],
                                                  "camera_height": camera_height}}
                r = client.post(f"/api/projects/{pid}/sample", json={"document": doc})
                assert r.status_code == 200, r.text
                tracks = [t for t in r.json()["tracks"] if t["source"] == "entities"]
                xy = np.array([t["xy"] for t in tracks])  # (entities × 5 points, frames, 2)
                assert len(tracks) == 5 * count and all(all(t["visible"]) for t in tracks), (shape, count)
                inside = (xy[..., 0] >= 0) & (xy[..., 0] <= W) & (xy[..., 1] >= 0) & (xy[..., 1] <= H)
                assert inside.all(), (shape, count, camera_height, float(inside.mean()))
                anchors_y = xy[::5, :, 1]
                if shape != "spin":  # the rest move in depth: not all on one image row
                    assert (np.ptp(anchors_y, axis=1) > 0.05 * H).all(), (shape, anchors_y.min(), anchors_y.max())
                explicit = {**doc, "entities": {**doc["entities"], "templates": [
                    {"shape": shape, "prompt": f"entity {k}", "params": defaults[shape]} for k in range(count)]}}
                same = client.post(f"/api/projects/{pid}/sample", json={"document": explicit}).json()["tracks"]
                assert [t["xy"] for t in same if t["source"] == "entities"] == [t["xy"] for t in tracks]
    # one against the projection by hand: the straight default walks 4 m at 20° right of "away", from 8 m ahead
    doc = {"frames": 49, "entities": {"templates": [{"shape": "straight", "prompt": "a fox"}], "footprint": 0}}
    anchor = np.array(client.post(f"/api/projects/{pid}/sample", json={"document": doc}).json()["tracks"][0]["xy"])
    turn = math.radians(20)
    assert anchor[0] == pytest.approx(rig_pixel(0.0, 8.0, 1.5), abs=0.02)
    assert anchor[-1] == pytest.approx(rig_pixel(4 * math.sin(turn), 8 + 4 * math.cos(turn), 1.5), abs=0.02)


def test_bad_template_parameters_are_refused_by_the_sample_and_plot_too(client, pid):
    body = entities('{"shape": "spin", "prompt": "a fox", "params": {"degrees": 1e300}}')
    for path in ("sample", "entities-plot"):
        r = client.post(f"/api/projects/{pid}/{path}", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "degrees" in r.json()["detail"], (path, r.text)
