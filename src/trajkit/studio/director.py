"""The studio's director (text → camera move): loaded once, behind a lock, with a status the page can show.

The first use imports torch and loads the embedded director and its text encoder (MiniLM) — seconds on a warm
machine, more on a cold one. Two requests racing through a first import broke transformers' lazy module
(``ImportError: cannot import name 'AutoModel'``, issue 16; GenDoP checkpoints still use it), so loading is
serialised here and the
second caller waits for the first. Sampling is serialised too: the text tokenizer must not be called from two
threads at once. Callers run in the server's thread pool, never on the event loop.

``GET /api/director/status`` reports :meth:`DirectorLoader.status`; ``POST /api/director/load`` starts loading in
the background so the page can show progress before the first camera is asked for.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from ..core.errors import TrajkitError
from .workspace import StudioError

if TYPE_CHECKING:
    from ..core.camera import CameraPath

DirectorState = Literal["idle", "loading", "ready", "error"]
#: ``load(stage)`` returns a callable director pipeline; it calls ``stage(text)`` as it goes.
Loader = Callable[[Callable[[str], None]], Any]


def load_embedded(stage: Callable[[str], None]) -> Any:
    """The embedded director, warmed up: torch imported, weights loaded, the text encoder (MiniLM) loaded."""
    stage("importing torch")
    from ..director.pipeline import load_pipeline

    stage("loading the director")
    pipe = load_pipeline(None)
    stage("loading its text encoder")
    pipe.encode_text(["the camera moves forward"])  # loads the text encoder, once
    return pipe


class DirectorLoader:
    """One director for the whole process, loaded on first use (see the module docstring).

    ``load`` (default :func:`load_embedded`) is called at most once at a time; after a failure the next use tries
    again (the status says ``error`` until then).
    """

    def __init__(self, load: Loader | None = None) -> None:
        self._load = load or load_embedded
        self._loading = threading.Lock()
        self._sampling = threading.Lock()
        self._pipeline: Any = None
        self._state: DirectorState = "idle"
        self._stage = ""
        self._error: str | None = None
        self._started: float | None = None
        self._seconds: float | None = None

    def status(self) -> dict[str, Any]:
        """``{"status": idle|loading|ready|error, "stage", "error", "seconds"}``; ``seconds`` is the time spent
        loading so far (while ``loading``) or in all (once ``ready`` or ``error``)."""
        seconds = self._seconds
        if self._state == "loading" and self._started is not None:
            seconds = time.monotonic() - self._started
        return {"status": self._state, "stage": self._stage, "error": self._error,
                "seconds": None if seconds is None else round(seconds, 1)}

    def _set_stage(self, text: str) -> None:
        self._stage = text

    def pipeline(self) -> Any:
        """The loaded director; the first caller loads it while any others wait (503 if loading fails)."""
        if self._pipeline is not None:
            return self._pipeline
        with self._loading:
            if self._pipeline is not None:  # loaded while this caller waited
                return self._pipeline
            self._state, self._stage, self._error = "loading", "starting", None
            self._started, self._seconds = time.monotonic(), None
            try:
                pipe = self._load(self._set_stage)
            except Exception as exc:
                detail = str(exc) if isinstance(exc, TrajkitError) else f"{type(exc).__name__}: {exc}"
                self._state, self._error = "error", f"the director could not be loaded: {detail}"
                raise StudioError(503, self._error) from exc
            finally:
                self._seconds = time.monotonic() - self._started
            self._pipeline, self._state, self._stage = pipe, "ready", ""
            return pipe

    def start(self) -> None:
        """Load in a background thread unless loaded or loading already (the outcome shows in :meth:`status`,
        which says ``loading`` from the moment this returns)."""
        if self._pipeline is not None or self._loading.locked():
            return
        self._state, self._stage, self._error = "loading", "starting", None
        self._started, self._seconds = time.monotonic(), None

        def run() -> None:
            with contextlib.suppress(StudioError):  # recorded in the status
                self.pipeline()

        threading.Thread(target=run, name="trajkit-director-load", daemon=True).start()

    def camera(self, text: str, seed: int, size: tuple[int, int]) -> CameraPath:
        """One camera path for ``text`` (GenDoP's top-k sampling, ``seed``) on the ``size`` canvas."""
        from ..director.sampling import SamplingOptions

        pipe = self.pipeline()
        with self._sampling:
            return pipe(text, num=1, seed=seed, size=size, options=SamplingOptions(mode="top-k"))[0]


#: The process's director (the loaded model is cached process-wide anyway).
DIRECTOR = DirectorLoader()
