"""``trajkit studio``: the web editor."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

import typer

from ..core.errors import TrajkitError
from ._common import err, fail

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def studio(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind. Keep 127.0.0.1 unless you need remote "
                                                        "access; other addresses require the access token."),
    port: int = typer.Option(7860, "--port", min=1, max=65535, help="Port to listen on."),
    workspace: Path = typer.Option(Path("studio-workspace"), "--workspace", "-w",
                                   help="Folder for projects (images, documents, renders); created if missing."),
    token: str | None = typer.Option(None, "--token", envvar="TRAJKIT_STUDIO_TOKEN",
                                     help="Access token (default: none on localhost, a random one elsewhere)."),
    open_browser: bool = typer.Option(False, "--open", help="Open the editor in the default browser."),
) -> None:
    """Start the studio: draw tracks on an image, author camera moves and entities, preview and export.

    Tracks: draw freehand (the speed is set afterwards, not by the mouse), edit control points, circle zoom,
    static anchors, pan, duplicate, edit with falloff, per-track start/end, a timeline with frame indices,
    undo/redo. Camera: the move grammar or the director's free text, bridged into tracks. Entities: 1–3
    templates projected onto the image. Preview renders in the background; exports: ATI .pth and
    examples, ComfyUI JSON, Wan-Move .npy, native JSON, a trajkit job. The API is documented at /docs.

    Examples:

        trajkit studio                       # http://127.0.0.1:7860

        trajkit studio --host 0.0.0.0 --port 8080 -w ~/tracks   # prints a URL with an access token
    """
    try:
        import uvicorn

        from ..studio.app import create_app
    except ImportError as exc:
        fail(f"the studio needs its web server: pip install 'trajkit[studio]' ({exc.name} is missing)")
    loopback = _is_loopback(host)
    if token is not None and not token.strip():
        token = None  # a blank token (--token "", an empty TRAJKIT_STUDIO_TOKEN) is no token, never an open door
    if not loopback and token is None:
        token = secrets.token_urlsafe(24)
    allowed = [f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")] + list(LOCAL_HOSTS) if loopback else None
    try:
        application = create_app(workspace, token=token, allowed_hosts=allowed)
    except TrajkitError as exc:
        fail(str(exc))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    if not loopback:
        err.print(f"[yellow]warning:[/] the studio is bound to {host}: anyone who can reach this address and has the "
                  "token can upload images and write into the workspace; prefer 127.0.0.1 or an SSH tunnel")
    err.print(f"trajkit studio: {url}  (workspace {workspace.resolve()}, API docs at /docs; Ctrl+C to stop)")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
