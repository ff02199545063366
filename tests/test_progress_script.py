"""scripts/_progress.sh: the quick start's pip install shows its milestones as they happen and logs everything.

Issue 16 item 15: the quick start printed nothing for about three minutes while pip ran into a log file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "_progress.sh"
FAKE_PIP = "printf 'Collecting numpy>=1.24\\n  Using cached numpy.whl\\nSuccessfully installed numpy-2.0\\n'; exit {rc}"


@pytest.mark.parametrize("rc", [0, 3])
def test_milestones_on_stderr_everything_in_the_log(tmp_path: Path, rc: int) -> None:
    log = tmp_path / "pip.log"
    result = subprocess.run(["bash", "-c", f'set -euo pipefail; source "{SCRIPT}"; '
                             f'run_logged "{log}" bash -c "{FAKE_PIP.format(rc=rc)}" || echo "rc=$?"'],
                            capture_output=True, text=True, timeout=60)
    assert "    Collecting numpy>=1.24" in result.stderr and "Successfully installed numpy-2.0" in result.stderr
    assert "Using cached" not in result.stderr  # detail stays in the log
    assert "Using cached numpy.whl" in log.read_text()
    assert (f"rc={rc}" in result.stdout) == (rc != 0)
