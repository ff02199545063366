"""The studio server under real use (issue 16): the director's first use, uploads off the event loop, streamed
bodies cut at the limit, and a bounded render queue."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from studio_process import StudioProcess

from trajkit.studio.app import create_app


def png_bytes(w: int = 64, h: int = 48) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray((np.indices((h, w)).sum(0) % 256).astype(np.uint8)).convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


def new_project(url: str) -> str:
    r = httpx.post(f"{url}/api/projects", files={"image": ("p.png", png_bytes(), "image/png")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_concurrent_first_uses_of_the_director_all_succeed(tmp_path):
    """A fresh server process has imported neither torch nor transformers: four cameras asked for at once all race
    into the first import (which broke transformers' lazy module: 500s, 3 runs in 3)."""
    with StudioProcess(tmp_path / "ws") as studio:
        pid = new_project(studio.url)
        results: dict[int, httpx.Response] = {}

        def direct(k: int) -> None:
            doc = {"frames": 9, "camera": {"text": f"the camera pans left {k}", "grid": 2}}
            results[k] = httpx.post(f"{studio.url}/api/projects/{pid}/sample", json={"document": doc}, timeout=300)

        threads = [threading.Thread(target=direct, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [results[k].status_code for k in range(4)] == [200] * 4, [results[k].text[:300] for k in range(4)]
        for k in range(4):
            tracks = results[k].json()["tracks"]
            assert len(tracks) == 4 and all(t["source"] == "camera" and len(t["xy"]) == 9 for t in tracks)
        status = httpx.get(f"{studio.url}/api/director/status").json()
        assert status["status"] == "ready" and status["seconds"] > 0


class FakeDirector:
    """Stands for the director pipeline: a static camera for any text."""

    def __call__(self, text, num, seed, size, options):
        from trajkit.core.camera import CameraPath, intrinsics_from_fov

        return [CameraPath.static(np.eye(4), intrinsics_from_fov(size, 60.0), size, frames=5, fps=30.0)]


def test_the_director_loads_once_and_reports_its_progress(live_studio, monkeypatch):
    from trajkit.studio import director, document

    gate, calls = threading.Event(), []

    def slow_load(stage):
        calls.append(threading.current_thread().name)
        stage("loading the director")
        assert gate.wait(60)
        return FakeDirector()

    monkeypatch.setattr(director, "DIRECTOR", director.DirectorLoader(slow_load))
    document._directed_camera.cache_clear()
    url = live_studio.url
    pid = new_project(url)
    assert httpx.get(f"{url}/api/director/status").json()["status"] == "idle"
    codes: list[int] = []

    def sample(k: int) -> None:
        doc = {"frames": 5, "camera": {"text": f"push in {k}", "grid": 2}}
        codes.append(httpx.post(f"{url}/api/projects/{pid}/sample", json={"document": doc}, timeout=60).status_code)

    threads = [threading.Thread(target=sample, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while (status := httpx.get(f"{url}/api/director/status").json())["status"] != "loading":
        assert time.time() < deadline, status
        time.sleep(0.02)
    assert status["stage"] == "loading the director" and status["seconds"] >= 0  # the health check still answers
    gate.set()
    for t in threads:
        t.join()
    assert codes == [200] * 3 and len(calls) == 1  # three requests, one load
    assert httpx.get(f"{url}/api/director/status").json()["status"] == "ready"

    attempts, fixed = [], threading.Event()

    def broken_once(stage):
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("weights missing")
        assert fixed.wait(60)
        return FakeDirector()

    monkeypatch.setattr(director, "DIRECTOR", director.DirectorLoader(broken_once))
    document._directed_camera.cache_clear()
    failed = httpx.post(f"{url}/api/projects/{pid}/sample", json={"document": {"camera": {"text": "pan"}}})
    assert failed.status_code == 503 and "weights missing" in failed.json()["detail"]
    status = httpx.get(f"{url}/api/director/status").json()
    assert status["status"] == "error" and "weights missing" in status["error"]
    started = httpx.post(f"{url}/api/director/load")  # tries again, in the background
    assert started.status_code == 202 and started.json()["status"] == "loading"
    fixed.set()
    deadline = time.time() + 30
    while httpx.get(f"{url}/api/director/status").json()["status"] != "ready":
        assert time.time() < deadline
        time.sleep(0.02)
    assert len(attempts) == 2


def test_health_answers_while_an_upload_is_being_decoded(live_studio, monkeypatch, studio_image):
    """The upload's decoding waits until a health request has been answered: on the event loop it would wait in
    vain (nothing else is served meanwhile), so health would only come back after the upload."""
    import trajkit.studio.workspace as workspace

    answered, events = threading.Event(), []
    real_decode = workspace.decode_image

    def gated_decode(data, *args, **kwargs):
        events.append("decoding")
        # bounded: on the event loop this would wait for good, as the health request could not be answered
        events.append("released by health" if answered.wait(20) else "gave up waiting")
        return real_decode(data, *args, **kwargs)

    monkeypatch.setattr(workspace, "decode_image", gated_decode)

    def upload() -> None:
        r = httpx.post(f"{live_studio.url}/api/projects", timeout=120,
                       files={"image": ("bear.jpg", studio_image.read_bytes(), "image/jpeg")})
        events.append(f"upload {r.status_code}")

    thread = threading.Thread(target=upload)
    thread.start()
    deadline = time.time() + 30
    while "decoding" not in events:
        assert time.time() < deadline
        time.sleep(0.01)
    health = httpx.get(f"{live_studio.url}/api/health", timeout=60)
    events.append(f"health {health.status_code}")
    answered.set()
    thread.join()
    assert events == ["decoding", "health 200", "released by health", "upload 201"]


def test_a_chunked_upload_is_cut_at_the_limit(tmp_path):
    """No Content-Length: the server must stop reading at the limit (413), not take in all 128 MiB first."""
    from conftest import LiveServer

    with LiveServer(create_app(tmp_path / "ws", max_upload=2**20)) as server:
        conn = socket.create_connection(("127.0.0.1", server.port))
        conn.sendall((f"POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                      "Transfer-Encoding: chunked\r\nContent-Type: multipart/form-data; boundary=b\r\n\r\n").encode())
        sent = {"bytes": 0, "at_reply": None}
        reply = bytearray()

        def read() -> None:
            with contextlib.suppress(OSError):  # a reset once the server has answered and closed
                while chunk := conn.recv(65536):
                    if sent["at_reply"] is None:
                        sent["at_reply"] = sent["bytes"]
                    reply.extend(chunk)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        head = b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
        block = b"\0" * 2**16
        try:
            for data in [head] + [block] * (128 * 2**4):
                if sent["at_reply"] is not None:
                    break
                conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                sent["bytes"] += len(data)
        except OSError:
            pass  # the server closed the connection after its answer
        reader.join(30)
        conn.close()
        assert reply.startswith(b"HTTP/1.1 413"), bytes(reply[:200])
        assert b"request larger than 1 MiB" in reply
        # the answer came long before the body was sent (socket buffers hold a few MiB at most)
        assert sent["at_reply"] is not None and sent["at_reply"] < 32 * 2**20, sent


def test_renders_are_bounded_superseded_and_pruned(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    import trajkit.jobs

    gate, ran = threading.Event(), []

    def fake_run_jobs(jobs, base, out, progress=None):
        ran.append(Path(out).parent.name)
        if len(ran) == 1:
            assert gate.wait(60)  # the first render holds the worker
        (Path(out) / "studio").mkdir(parents=True)
        (Path(out) / "studio" / "video.mp4").write_bytes(b"video")
        return [SimpleNamespace(status="done", error=None)]

    monkeypatch.setattr(trajkit.jobs, "run_jobs", fake_run_jobs)
    client = TestClient(create_app(tmp_path / "ws", max_queued_renders=2, keep_renders=2))
    doc = {"frames": 5, "tracks": [{"id": "a", "kind": "static", "point": [3, 3]}]}
    pids = []
    for _ in range(4):
        pid = client.post("/api/projects", files={"image": ("p.png", png_bytes(), "image/png")}).json()["id"]
        assert client.put(f"/api/projects/{pid}", json={"document": doc}).status_code == 200
        pids.append(pid)
    a, b, c, d = pids

    def status(pid: str, rid: str) -> str:
        return client.get(f"/api/projects/{pid}/renders/{rid}").json().get("status", "gone")

    running = client.post(f"/api/projects/{a}/renders").json()["id"]
    deadline = time.time() + 30
    while status(a, running) != "running":
        assert time.time() < deadline
        time.sleep(0.01)
    first = client.post(f"/api/projects/{a}/renders").json()["id"]  # waits
    second = client.post(f"/api/projects/{a}/renders").json()["id"]  # supersedes the waiting one
    assert status(a, first) == "superseded" and status(a, running) == "running"
    assert not (tmp_path / "ws" / "projects" / a / "renders" / first).exists()
    assert client.post(f"/api/projects/{b}/renders").status_code == 202  # two wait now: the bound
    full = client.post(f"/api/projects/{c}/renders")
    assert full.status_code == 429 and "at most 2" in full.json()["detail"]
    gate.set()
    deadline = time.time() + 30
    while status(a, second) != "done":
        assert time.time() < deadline
        time.sleep(0.01)
    assert first not in ran and len(ran) == 3  # the superseded render never ran
    for _ in range(3):  # more renders of a: only the newest two are kept, on disk and in the API
        rid = client.post(f"/api/projects/{a}/renders").json()["id"]
        while status(a, rid) in ("queued", "running"):
            time.sleep(0.01)
    kept = [r["id"] for r in client.get(f"/api/projects/{a}/renders").json()]
    assert len(kept) == 2 and kept[0] == rid
    assert sorted(p.name for p in (tmp_path / "ws" / "projects" / a / "renders").iterdir()) == sorted(kept)
    assert client.get(f"/api/projects/{a}/renders/{running}").status_code == 404
    last = client.post(f"/api/projects/{d}/renders").json()["id"]
    while status(d, last) in ("queued", "running"):
        time.sleep(0.01)
    restarted = TestClient(create_app(tmp_path / "ws", keep_renders=2))  # finished renders are served again
    assert sorted(r["id"] for r in restarted.get(f"/api/projects/{a}/renders").json()) == sorted(kept)
    assert restarted.get(f"/api/projects/{a}/renders/{rid}/video.mp4").content == b"video"


@pytest.fixture(autouse=True)
def _fresh_director_cache():
    from trajkit.studio import document

    document._directed_camera.cache_clear()
    yield
    document._directed_camera.cache_clear()


def test_a_director_prompt_with_no_motion_word_is_sampled_with_a_warning(live_studio, monkeypatch):
    """Issue 17 item 3 (honest refusal), the studio's half: the same warning as `trajkit direct`, not a silent guess."""
    from trajkit.studio import director

    monkeypatch.setattr(director, "DIRECTOR", director.DirectorLoader(lambda stage: FakeDirector()))
    url = live_studio.url
    pid = new_project(url)

    def warnings(text: str) -> list[str]:
        doc = {"frames": 5, "camera": {"text": text, "grid": 2}}
        r = httpx.post(f"{url}/api/projects/{pid}/sample", json={"document": doc}, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()["warnings"]

    [warning] = warnings("banana telephone purple elephant")
    assert "names no camera motion the director knows" in warning and "banana" in warning
    assert warnings("slowly pan left, then push in") == []
