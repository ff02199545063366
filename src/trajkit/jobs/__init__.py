"""Job specs and the runner: resolve inputs → bridge → backend → outputs → report."""

from .resolve import ResolvedJob, resolve_job
from .runner import JobResult, run_jobs, run_one, summary
from .spec import CameraSpec, EntitiesSpec, JobSpec, TracksSpec, load_jobs, parse_jobs

__all__ = ["CameraSpec", "EntitiesSpec", "JobResult", "JobSpec", "ResolvedJob", "TracksSpec", "load_jobs",
           "parse_jobs", "resolve_job", "run_jobs", "run_one", "summary"]
