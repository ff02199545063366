"""The studio's API: documents to controls, exports read back with trajkit's readers, and hostile requests refused."""

from __future__ import annotations

import concurrent.futures
import io
import json
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

from trajkit.studio.app import create_app

W, H = 640, 360


def png_bytes(w: int = W, h: int = H) -> bytes:
    from PIL import Image

    rgb = (np.indices((h, w)).sum(0) % 256).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.stack([rgb, rgb[::-1], rgb[:, ::-1]], -1)).save(buf, format="PNG")
    return buf.getvalue()


def bomb_png(w: int = 60000, h: int = 60000) -> bytes:
    """A tiny file whose header claims a huge 8-bit grey image (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(tmp_path / "ws"))


def new_project(client: TestClient) -> str:
    r = client.post("/api/projects", files={"image": ("photo.png", png_bytes(), "image/png")}, data={"name": "p"})
    assert r.status_code == 201, r.text
    assert r.json()["image"] == {"width": W, "height": H}
    return r.json()["id"]


DOC = {"frames": 49, "fps": 16, "tracks": [
    {"id": "a", "kind": "path", "points": [[40.5, 30.25], [200, 120], [400, 90]], "speed": "ease-in-out"},
    {"id": "b", "kind": "static", "point": [500, 300]},
    {"id": "c", "kind": "circle", "center": [320, 180], "radius_start": 20, "radius_end": 50, "count": 3},
]}


def test_document_becomes_tracks_in_image_pixels(client):
    pid = new_project(client)
    sampled = client.post(f"/api/projects/{pid}/sample", json={"document": DOC}).json()
    assert sampled["size"] == [W, H] and sampled["frames"] == 49
    tracks = sampled["tracks"]
    assert [t["id"] for t in tracks] == ["a", "b", "c", "c", "c"]
    assert tracks[0]["xy"][0] == [40.5, 30.25] and tracks[0]["xy"][-1] == [400.0, 90.0]
    assert all(p == [500.0, 300.0] for p in tracks[1]["xy"])
    radii = [np.hypot(*(np.array(t["xy"][-1]) - [320, 180])) for t in tracks[2:]]
    assert radii == pytest.approx([50, 50, 50], abs=0.01)  # circle points share one radius: in sync


def test_exports_read_back_with_trajkit_readers(client, tmp_path):
    from trajkit.formats.registry import load

    pid = new_project(client)
    assert client.put(f"/api/projects/{pid}", json={"document": DOC}).status_code == 200
    pth = tmp_path / "t.pth"
    pth.write_bytes(client.get(f"/api/projects/{pid}/export/ati-pth").content)
    ati = load(pth, size=(W, H))
    assert ati.num_frames == 121 and ati.num_tracks == 5
    assert np.allclose(ati.xy[0, 0], [40.5, 30.25], atol=1e-3) and np.allclose(ati.xy[-1, 0], [400, 90], atol=1e-3)
    comfy = tmp_path / "t.json"
    comfy.write_bytes(client.get(f"/api/projects/{pid}/export/comfyui-json").content)
    tracks = load(comfy, format="comfyui-json", size=(W, H))
    assert tracks.num_frames == 49 and np.allclose(tracks.xy[:, 1], [500, 300])
    native = tmp_path / "n.json"
    native.write_bytes(client.get(f"/api/projects/{pid}/export/trajkit-json").content)
    assert np.allclose(load(native).xy, tracks.xy, atol=1e-4)
    job = zipfile.ZipFile(io.BytesIO(client.get(f"/api/projects/{pid}/export/job").content))
    assert set(job.namelist()) == {"job.yaml", "image.png", "tracks.json"}
    with tempfile.TemporaryDirectory() as tmp:
        job.extractall(tmp)
        from trajkit.jobs import load_jobs
        from trajkit.jobs.resolve import resolve_job

        spec = load_jobs(Path(tmp) / "job.yaml")[0]
        resolved = resolve_job(spec, Path(tmp))
        assert resolved.request.frames == 49 and resolved.request.tracks.num_tracks == 5
    examples = zipfile.ZipFile(io.BytesIO(client.get(f"/api/projects/{pid}/export/ati-examples").content))
    assert {"test.yaml", "images/studio.png", "tracks/studio.pth"} <= set(examples.namelist())
    wan = zipfile.ZipFile(io.BytesIO(client.get(f"/api/projects/{pid}/export/wanmove").content))
    xy = np.load(io.BytesIO(wan.read("tracks.npy")), allow_pickle=False)
    assert xy.shape == (1, 49, 5, 2)
    unknown = client.get(f"/api/projects/{pid}/export/docx")
    assert unknown.status_code == 422 and "ati-pth" in unknown.json()["detail"]


def test_import_adds_sampled_tracks(client, data_dir):
    pid = new_project(client)
    pth = (data_dir / "ati" / "tracks").glob("*.pth")
    data = next(iter(sorted(pth))).read_bytes()
    r = client.post(f"/api/projects/{pid}/import", files={"file": ("bear.pth", data, "application/octet-stream")})
    assert r.status_code == 200, r.text
    doc = r.json()["document"]
    assert doc["tracks"] and all(t["kind"] == "sampled" and len(t["xy"]) == 81 for t in doc["tracks"])
    evil = client.post(f"/api/projects/{pid}/import", files={"file": ("x.pth", b"\x80\x04cos\nsystem\n.", "x")})
    assert evil.status_code == 422
    assert client.post(f"/api/projects/{pid}/import", files={"file": ("x.exe", b"MZ", "x")}).status_code == 415


def test_bad_requests_get_clear_4xx(tmp_path):
    client = TestClient(create_app(tmp_path / "ws", max_upload=2**20))
    pid = new_project(client)
    cases = [
        client.get("/api/projects/..%2F..%2Fetc%2Fpasswd"),
        client.get("/api/projects/..%2F..%2Fetc/image"),
        client.get(f"/api/projects/{pid}/renders/{'0' * 32}/..%2Fproject.json"),
        client.get(f"/api/projects/{pid.upper()}"),
    ]
    assert [r.status_code for r in cases] == [404, 404, 404, 404]
    # one path segment each, so the route matches and the handler's id check is what refuses them
    ids = [
        client.get("/api/projects/%2E%2E"),
        client.get("/api/projects/%2E%2E/image"),
        client.get("/api/projects/..%5C..%5Cetc%5Cpasswd"),
        client.get(f"/api/projects/{pid.upper()}"),
        client.post("/api/projects/%2E%2E/depth", files={"depth": ("d.npy", b"x", "x")}),
        client.get(f"/api/projects/{pid}/renders/%2E%2E"),
    ]
    assert [r.status_code for r in ids] == [404] * len(ids)
    assert all("32 lowercase hex digits" in r.json()["detail"] for r in ids), [r.json() for r in ids]
    big = client.post("/api/projects", files={"image": ("big.png", b"\0" * (4 * 2**20), "image/png")})
    assert big.status_code == 413 and "MiB" in big.json()["detail"]
    # under the request limit (upload + 1 MiB of form) but over the upload limit: the streaming read refuses it
    over = client.post("/api/projects", files={"image": ("over.png", b"\0" * (2**20 + 2**19), "image/png")})
    assert over.status_code == 413 and over.json()["detail"] == "the upload is larger than 1 MiB"
    bomb = client.post("/api/projects", files={"image": ("bomb.png", bomb_png(), "image/png")})
    assert bomb.status_code == 413 and "too large" in bomb.json()["detail"]
    text = client.post("/api/projects", files={"image": ("note.png", b"hello, not an image", "image/png")})
    assert text.status_code == 415 and "not a readable image" in text.json()["detail"]
    cross = client.put(f"/api/projects/{pid}", json={"document": DOC}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and "cross-origin" in cross.json()["detail"]
    site = client.post("/api/projects", files={"image": ("a.png", png_bytes(), "image/png")},
                       headers={"Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403
    post = client.post("/api/projects", files={"image": ("a.png", png_bytes(), "image/png")},
                       headers={"Origin": "http://localhost:9999"})
    assert post.status_code == 403 and len(client.get("/api/projects").json()) == 1  # nothing was created
    bad_doc = client.put(f"/api/projects/{pid}", json={"document": {**DOC, "frames": 0}})
    assert bad_doc.status_code == 422 and "frames" in bad_doc.json()["detail"]
    span = client.put(f"/api/projects/{pid}", json={"document": {"frames": 10, "tracks": [
        {"id": "a", "kind": "static", "point": [1, 1], "start": 8, "end": 20}]}})
    assert span.status_code == 422 and "start/end" in span.json()["detail"]
    nan = client.post(f"/api/projects/{pid}/sample", content='{"document": {"tracks": [{"id": "a", "kind": "static", '
                                                                 '"point": [NaN, 1]}]}}',
                      headers={"Content-Type": "application/json"})
    assert nan.status_code == 422
    huge = {"frames": 2000, "tracks": [{"id": f"c{k}", "kind": "circle", "center": [1, 1], "radius_start": 1,
                                        "radius_end": 2, "count": 64} for k in range(40)]}
    too_many = client.put(f"/api/projects/{pid}", json={"document": huge})
    assert too_many.status_code == 422 and "positions" in too_many.json()["detail"]
    assert client.get(f"/api/projects/{pid}").json()["revision"] == 0  # nothing refused was saved
    assert client.post(f"/api/projects/{pid}/renders").status_code == 409  # no tracks to render


def test_token_and_host_checks(tmp_path):
    app = create_app(tmp_path / "ws", token="s3cret", allowed_hosts=["testserver"])
    client = TestClient(app)
    assert client.get("/api/projects").status_code == 401
    assert client.get("/api/projects", headers={"X-Trajkit-Token": "s3cret"}).status_code == 200
    assert client.get("/?token=wrong", follow_redirects=False).status_code == 401
    login = client.get("/?token=s3cret", follow_redirects=False)
    assert login.status_code == 303 and "httponly" in login.headers["set-cookie"].lower()
    assert client.get("/api/projects").status_code == 200  # the cookie now
    assert TestClient(app, base_url="http://evil.example").get("/").status_code == 421
    page = client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_concurrent_saves_never_corrupt_a_project(live_studio):
    import httpx

    with httpx.Client(base_url=live_studio.url) as http:
        r = http.post("/api/projects", files={"image": ("p.png", png_bytes(), "image/png")})
        pid = r.json()["id"]
        docs = [{**DOC, "prompt": f"version {k}", "frames": 20 + k} for k in range(24)]

        def put(doc):
            with httpx.Client(base_url=live_studio.url) as c:
                return c.put(f"/api/projects/{pid}", json={"document": doc}).status_code

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(put, docs))
        assert codes == [200] * 24
        saved = http.get(f"/api/projects/{pid}").json()
        assert saved["revision"] == 24
        assert saved["document"]["prompt"] in {d["prompt"] for d in docs}
        record = json.loads((Path(live_studio.workspace) / "projects" / pid / "project.json").read_text())
        assert record["document"] == saved["document"]
        assert not list((Path(live_studio.workspace) / "projects" / pid).glob("*.tmp*"))
        stale = http.put(f"/api/projects/{pid}", json={"document": DOC, "revision": 3})
        assert stale.status_code == 409


def test_openapi_schema_is_valid_and_fuzzing_the_running_server_finds_no_server_errors(live_studio):
    import httpx

    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings

    with httpx.Client(base_url=live_studio.url) as http:
        pid = http.post("/api/projects", files={"image": ("p.png", png_bytes(64, 48), "image/png")}).json()["id"]
        http.put(f"/api/projects/{pid}", json={"document": {"frames": 9, "tracks": [
            {"id": "a", "kind": "path", "points": [[1, 1], [30, 20]]}]}})
    schema = schemathesis.openapi.from_url(f"{live_studio.url}/openapi.json")
    schema.validate()
    assert {"/api/projects", "/api/projects/{pid}/sample", "/api/projects/{pid}/export/{fmt}"} <= set(
        schema.raw_schema["paths"])
    failures = []

    def fuzz(operation):
        @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            if case.path_parameters and "pid" in case.path_parameters and operation.method.upper() != "DELETE":
                case.path_parameters["pid"] = pid  # reach the handlers, not just the 404
            # generous timeout: this test looks for 5xx, not latency (a director camera on a busy CI core is slow)
            response = case.call(base_url=live_studio.url, timeout=120)
            if response.status_code >= 500:
                failures.append((operation.method, operation.path, case.body, response.text[:200]))

        run()

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:
        fuzz(operation)
    assert not failures, failures[:3]


def test_studio_command_binds_safely(monkeypatch, tmp_path):
    import uvicorn
    from typer.testing import CliRunner

    from trajkit.cli.main import app

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **kw: calls.append((application, kw)))
    result = CliRunner().invoke(app, ["studio", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    application, kw = calls[-1]
    assert kw["host"] == "127.0.0.1" and kw["port"] == 7860 and "token" not in result.output
    local = TestClient(application, base_url="http://127.0.0.1:7860")
    assert local.get("/api/health").status_code == 200
    assert TestClient(application, base_url="http://attacker.example:7860").get("/api/health").status_code == 421
    result = CliRunner().invoke(app, ["studio", "--host", "0.0.0.0", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0 and "warning" in result.output and "?token=" in result.output
    remote = TestClient(calls[-1][0], base_url="http://10.0.0.5:7860")
    assert remote.get("/api/health").status_code == 401  # the token is required off localhost
    token = result.output.split("?token=")[1].split()[0]
    assert remote.get("/api/health", headers={"X-Trajkit-Token": token}).status_code == 200


def test_every_export_imports_back(client):
    pid = new_project(client)
    client.put(f"/api/projects/{pid}", json={"document": DOC})
    reference = client.post(f"/api/projects/{pid}/sample", json={"document": DOC}).json()["tracks"]
    expected = np.array([t["xy"] for t in reference])  # (5, 49, 2)
    fresh = new_project(client)
    client.put(f"/api/projects/{fresh}", json={"document": {"frames": 49}})
    names = {"trajkit-json": "t.json", "ati-pth": "t.pth", "comfyui-json": "c.json", "wanmove": "w.zip",
             "job": "j.zip", "ati-examples": "e.zip"}
    for fmt, name in names.items():
        data = client.get(f"/api/projects/{pid}/export/{fmt}").content
        extra = {"format": "comfyui-json"} if fmt == "comfyui-json" else {}
        r = client.post(f"/api/projects/{fresh}/import", files={"file": (name, data, "x")}, data=extra)
        assert r.status_code == 200, (fmt, r.text)
        got = np.array([t["xy"] for t in r.json()["document"]["tracks"]])
        # ATI's file holds 121 frames; back on 49 frames the positions are re-interpolated (not the same samples)
        tolerance = 0.25 if fmt in ("ati-pth", "ati-examples") else 0.01
        assert got.shape == expected.shape and np.abs(got - expected).max() <= tolerance, fmt
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tracks.json", b" " * (300 * 2**20))
    r = client.post(f"/api/projects/{fresh}/import", files={"file": ("z.zip", bomb.getvalue(), "x")})
    assert r.status_code == 413
    r = client.post(f"/api/projects/{fresh}/import", files={"file": ("z.zip", b"PK not a zip", "x")})
    assert r.status_code == 422


def test_a_blank_token_never_disables_the_token(monkeypatch, tmp_path):
    import uvicorn
    from typer.testing import CliRunner

    from trajkit.cli.main import app
    from trajkit.core.errors import TrajkitError

    for blank in ("", "  "):
        with pytest.raises(TrajkitError, match="blank"):
            create_app(tmp_path / "ws", token=blank)
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **kw: calls.append(application))
    result = CliRunner().invoke(app, ["studio", "--host", "0.0.0.0", "--token", "", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    token = result.output.split("?token=")[1].split()[0]
    assert len(token) >= 24  # a blank token counts as none: off localhost a random one is made
    remote = TestClient(calls[-1], base_url="http://10.0.0.5:7860")
    assert remote.get("/api/health").status_code == 401
    assert remote.get("/api/health", headers={"X-Trajkit-Token": ""}).status_code == 401
    remote.cookies.set("trajkit_studio", "")
    assert remote.get("/api/health").status_code == 401
    result = CliRunner().invoke(app, ["studio", "-w", str(tmp_path / "ws")], env={"TRAJKIT_STUDIO_TOKEN": ""})
    assert result.exit_code == 0 and "?token=" not in result.output  # on localhost: no token, as when none given


def test_imports_read_only_self_contained_track_formats(client, monkeypatch, tmp_path):
    import trajkit.formats.registry as registry
    from trajkit.author.grammar import parse_moves

    pid = new_project(client)
    # ATI's examples YAML names image files: read, it would make the server look up paths a client chose
    yaml = b"- image: /etc/passwd\n  track: /etc/hostname\n"
    named = client.post(f"/api/projects/{pid}/import", files={"file": ("x.txt", yaml, "x")},
                        data={"format": "ati-examples"})
    assert named.status_code == 422 and named.json()["detail"].startswith("field 'format'")
    assert "/etc" not in named.text
    # a file sniffed as something other than tracks is refused before it is read
    camera = tmp_path / "cam.txt"
    registry.save(parse_moves("pan left 15deg over 3s").path(fps=16, size=(W, H), hfov=60), camera,
                  format="re10k-txt")
    loads = []
    real_load = registry.load
    monkeypatch.setattr(registry, "load", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    sniffed = client.post(f"/api/projects/{pid}/import", files={"file": ("cam.txt", camera.read_bytes(), "x")})
    assert sniffed.status_code == 415 and "re10k-txt" in sniffed.json()["detail"] and not loads
    # errors name the upload, not the server's temporary file
    evil = client.post(f"/api/projects/{pid}/import", files={"file": ("x.pth", b"\x80\x04cos\nsystem\n.", "x")})
    assert evil.status_code == 422 and tempfile.gettempdir() not in evil.json()["detail"]
    assert "x.pth" in evil.json()["detail"]


def test_an_import_is_validated_as_a_whole_document(client, tmp_path):
    from trajkit.core.tracks import Tracks
    from trajkit.formats.registry import save

    pid = new_project(client)
    circles = [{"id": f"c{k}", "kind": "circle", "center": [9, 9], "radius_start": 1, "radius_end": 2, "count": 64}
               for k in range(31)]
    saved = client.put(f"/api/projects/{pid}", json={"document": {"frames": 2000, "tracks": circles}})
    assert saved.status_code == 200  # 1984 columns × 2000 frames: just under the limit
    path = tmp_path / "t.json"
    save(Tracks(xy=np.full((10, 20, 2), 5.0), visible=np.ones((10, 20), bool), size=(W, H), fps=16.0), path,
         format="trajkit-json")
    r = client.post(f"/api/projects/{pid}/import", files={"file": ("t.json", path.read_bytes(), "x")})
    assert r.status_code == 422 and "positions" in r.json()["detail"]  # 20 more would not fit: refused here


def depth_png(depth: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(depth.astype(np.uint16)).save(buf, format="PNG")
    return buf.getvalue()


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def test_depth_uploads(client, monkeypatch):
    from PIL import EpsImagePlugin, Image

    pid = new_project(client)
    url = f"/api/projects/{pid}/depth"
    camera = {**DOC, "camera": {"moves": "dolly in 1m over 3s"}}
    flat = client.post(f"/api/projects/{pid}/sample", json={"document": camera}).json()["tracks"]
    near = np.full((H // 4, W // 4), 1500)
    near[:, : W // 8] = 800  # the left half is nearer: it moves more as the camera dollies in
    png = client.post(url, files={"depth": ("d.png", depth_png(near), "image/png")})
    assert png.status_code == 200, png.text
    assert png.json() == {"shape": [H // 4, W // 4], "min": 800.0, "max": 1500.0}
    assert client.get(f"/api/projects/{pid}").json()["depth"] is True
    bridged = client.post(f"/api/projects/{pid}/sample", json={"document": camera}).json()["tracks"]
    cams = [t for t in bridged if t["source"] == "camera"]
    assert len(cams) == 64 and [t["xy"] for t in cams] != [t["xy"] for t in flat if t["source"] == "camera"]
    npy = client.post(url, files={"depth": ("d.npy", npy_bytes(np.full((90, 160), 2.5, np.float32)), "x")})
    assert npy.status_code == 200 and npy.json()["shape"] == [90, 160]

    negative = np.full((90, 160), 2.0)
    negative[3, 4] = -1.0  # one bad value: the camera bridge would refuse every sample later
    bad = client.post(url, files={"depth": ("d.npy", npy_bytes(negative), "x")})
    assert bad.status_code == 422 and "positive" in bad.json()["detail"] and "1 of" in bad.json()["detail"]
    nan = client.post(url, files={"depth": ("d.npy", npy_bytes(np.full((9, 16), np.nan)), "x")})
    assert nan.status_code == 422
    gs = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: gs.append(a) or Image.new("L", (8, 8)))
    eps = io.BytesIO()
    Image.new("L", (16, 9), 128).save(eps, format="EPS")
    for field, endpoint in (("depth", url), ("image", "/api/projects")):
        refused = client.post(endpoint, files={field: ("d.png", eps.getvalue(), "image/png")})
        assert refused.status_code == 415, refused.text
    assert not gs  # never handed to Ghostscript
    text = client.post(url, files={"depth": ("d.png", b"not an image", "image/png")})
    assert text.status_code == 415 and "PNG" in text.json()["detail"]
    huge = client.post(url, files={"depth": ("d.png", bomb_png(5000, 4000), "image/png")})
    assert huge.status_code == 413 and "too large" in huge.json()["detail"]  # checked before decoding
    sampled = client.post(f"/api/projects/{pid}/sample", json={"document": camera})
    assert sampled.status_code == 200  # the last accepted map is still in place


def test_plots_are_pngs(client):
    from PIL import Image

    pid = new_project(client)
    doc = {**DOC, "camera": {"moves": "pan left 15deg over 3s"},
           "entities": {"templates": [{"shape": "straight", "prompt": "a fox", "params": {"length": 4}}]}}
    aspects = {"camera-plot": 3, "entities-plot": 1}  # three views side by side; one top view
    for kind, aspect in aspects.items():
        r = client.post(f"/api/projects/{pid}/{kind}", json={"document": doc})
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
        w, h = Image.open(io.BytesIO(r.content)).size
        assert h >= 300 and w == pytest.approx(aspect * h, abs=2), (kind, w, h)
        empty = client.post(f"/api/projects/{pid}/{kind}", json={"document": DOC})
        assert empty.status_code == 409


def test_a_render_that_fails_in_any_way_says_so(client, monkeypatch):
    import time

    import trajkit.jobs

    def broken(*args, **kwargs):
        raise KeyError("lost")

    monkeypatch.setattr(trajkit.jobs, "run_jobs", broken)
    pid = new_project(client)
    client.put(f"/api/projects/{pid}", json={"document": DOC})
    job = client.post(f"/api/projects/{pid}/renders").json()
    deadline = time.time() + 20
    while job["status"] in ("queued", "running") and time.time() < deadline:
        time.sleep(0.05)
        job = client.get(f"/api/projects/{pid}/renders/{job['id']}").json()
    assert job["status"] == "failed" and job["error"] == "KeyError: 'lost'"
