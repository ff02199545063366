"""Peak-memory bookkeeping shared by the benchmarks (Linux ``/proc``): reset a process's peak RSS, read it back."""

from __future__ import annotations


def rss_kib(field: str) -> int:
    """A ``/proc/self/status`` figure in KiB: ``VmRSS:`` (now) or ``VmHWM:`` (peak since the last reset)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def reset_peak() -> int:
    """Reset this process's peak-RSS counter; return the current RSS (KiB) to measure the peak above."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return rss_kib("VmRSS:")
