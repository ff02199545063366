"""A studio server in its own process (a fresh interpreter: nothing imported yet), which a test may kill -9."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SERVE = """
import socket, sys, uvicorn
from trajkit.studio.app import create_app
sock = socket.socket(fileno=int(sys.argv[2]))
uvicorn.Server(uvicorn.Config(create_app(sys.argv[1]), log_level="warning")).run(sockets=[sock])
"""


class StudioProcess:
    """``with StudioProcess(workspace) as studio:`` serves ``workspace`` at ``studio.url`` until the block ends."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))  # bound here and inherited: no other process can take the port
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> StudioProcess:
        fd = self.socket.fileno()
        self.process = subprocess.Popen([sys.executable, "-c", SERVE, str(self.workspace), str(fd)], pass_fds=[fd])
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.time() > deadline:
                self.kill()
                raise RuntimeError("the studio process did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        """``kill -9`` the server (no cleanup of any kind can run), and close the listening socket: connections
        waiting to be accepted are refused instead of hanging."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.socket.close()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.socket.close()
