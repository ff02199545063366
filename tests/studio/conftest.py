"""A live studio server (uvicorn in a thread, a temporary workspace) and the image the tests draw on."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "studio"


class LiveServer:
    def __init__(self, app) -> None:
        import uvicorn

        # The socket is bound here and handed to uvicorn, so no other process can take the port in between.
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("the studio server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture(scope="module")
def live_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from trajkit.studio.app import create_app

    workspace = tmp_path_factory.mktemp("studio-workspace")
    port_app = create_app(workspace)
    with LiveServer(port_app) as server:
        server.workspace = workspace  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="session")
def studio_image(data_dir: Path) -> Path:
    """A real photo (ATI's bear example, 3984×2656): the page shows it scaled, coordinates stay in its pixels."""
    return data_dir / "ati" / "images" / "bear.jpg"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def page(live_studio, chromium_executable):
    """One Chromium page on the module's live studio (Playwright); ``page.errors`` collects uncaught page errors."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_executable,
                                     args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        context = browser.new_context(viewport={"width": 1500, "height": 950}, accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live_studio.url + "/")
        page.errors = errors  # type: ignore[attr-defined]
        yield page
        browser.close()
