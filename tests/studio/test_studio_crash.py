"""A studio killed mid-save leaves nothing behind once restarted (issue 16 item 6 and its acceptance test)."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import httpx
import numpy as np
from studio_process import StudioProcess

from trajkit.studio.workspace import Workspace


def png_bytes(w: int = 64, h: int = 48) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def strays(projects: Path) -> list[str]:
    """Temporary files anywhere under ``projects``, and project folders without a ``project.json``."""
    tmp = [str(p.relative_to(projects)) for p in projects.rglob("*.tmp")]
    return tmp + [p.name for p in projects.iterdir() if p.is_dir() and not (p / "project.json").is_file()]


def test_opening_a_workspace_removes_what_an_interrupted_server_left(tmp_path):
    ws = Workspace(tmp_path)
    project = ws.create(png_bytes(), "kept")
    folder = project.folder
    (folder / ".project.json.k2j3h4.tmp").write_text('{"id": "half a rec')
    (folder / ".image.png.x8y9.tmp").write_bytes(b"\x89PNG half")
    (folder / "notes.tmp").write_text("not ours: left alone")
    empty = ws.projects / ("ab" * 16)
    empty.mkdir()
    created_halfway = ws.projects / ("cd" * 16)  # killed between the image and project.json
    created_halfway.mkdir()
    (created_halfway / "image.png").write_bytes(png_bytes())
    (ws.projects / "README").write_text("not a project folder: left alone")

    Workspace(tmp_path)  # what a starting server does
    assert sorted(p.name for p in ws.projects.iterdir()) == sorted(["README", project.id])
    assert sorted(p.name for p in folder.iterdir()) == ["image.png", "notes.tmp", "project.json"]
    assert Workspace(tmp_path).load(project.id).record["name"] == "kept"


def big_document(writer: int, round_: int) -> dict:
    """A document of ≈ 1 MB, so that a save's write is long enough to be caught."""
    rng = np.random.default_rng(writer * 1000 + round_)
    tracks = [{"id": f"t{k}", "kind": "path", "points": np.round(rng.uniform(0, 60, (512, 2)), 3).tolist()}
              for k in range(24)]
    return {"frames": 9, "prompt": f"writer {writer} round {round_}", "tracks": tracks}


def save_until(url: str, pid: str, writer: int, stop: threading.Event, sent: set[str], rounds: int = 1000) -> None:
    """Save big documents one after the other until ``stop`` or the server dies; note each one's prompt."""
    with httpx.Client(base_url=url, timeout=60) as client:
        for round_ in range(rounds):
            if stop.is_set():
                return
            doc = big_document(writer, round_)
            sent.add(doc["prompt"])
            try:
                client.put(f"/api/projects/{pid}", json={"document": doc})
            except httpx.TransportError:
                return  # the server was killed


def test_twenty_concurrent_saves_and_a_kill_9_leave_a_readable_project_and_no_stray_files(tmp_path):
    workspace = tmp_path / "ws"
    projects = workspace / "projects"
    sent: set[str] = set()
    caught: list[str] = []
    pid = ""
    for _attempt in range(5):  # each kill lands mid-write almost always; retry the rare miss
        with StudioProcess(workspace) as studio:
            if not pid:
                pid = httpx.post(f"{studio.url}/api/projects", files={"image": ("p.png", png_bytes(), "image/png")}
                                 ).json()["id"]
                save_until(studio.url, pid, 0, threading.Event(), sent, rounds=1)  # one save done, for sure
            stop = threading.Event()
            writers = [threading.Thread(target=save_until, args=(studio.url, pid, k, stop, sent)) for k in range(20)]
            for w in writers:
                w.start()
            folder = projects / pid
            for _ in range(2_000_000):  # watch for a save mid-write, then kill -9 at once
                if any(name.endswith(".tmp") for name in _names(folder)):
                    studio.kill()
                    break
            studio.kill()
            stop.set()
            for w in writers:
                w.join()
            caught = strays(projects)
        if caught:
            break
    assert caught, "no kill landed while a save was being written"
    with StudioProcess(workspace) as studio:  # restart
        assert strays(projects) == []
        project = httpx.get(f"{studio.url}/api/projects/{pid}").json()
        assert project["document"]["prompt"] in sent  # one whole save, whichever came last
        on_disk = json.loads((projects / pid / "project.json").read_text())
        assert on_disk["revision"] == project["revision"] and on_disk["document"] == project["document"]
        again = httpx.put(f"{studio.url}/api/projects/{pid}", json={"document": big_document(99, 0)})
        assert again.status_code == 200 and again.json()["revision"] == project["revision"] + 1
        assert [p["id"] for p in httpx.get(f"{studio.url}/api/projects").json()] == [pid]


def _names(folder: Path) -> list[str]:
    try:
        return [entry.name for entry in os.scandir(folder)]
    except FileNotFoundError:
        return []
