"""Many recordings at once: an archive transcribed by worker processes that each load the model once.

One path for every scale: `run_archive` takes the planned files and an executor, either in this process
(`InlineExecutor`), in N local processes (`ProcessExecutor`, `notestream transcribe --jobs N`) or on a Ray
cluster (`notestream.archive.ray_cluster.RayExecutor`, `--ray ADDRESS`). Files whose outputs are all there
are skipped, so a rerun resumes; a worker that dies loses only the file it was on, which is retried.
"""

from .executors import InlineExecutor, ProcessExecutor
from .runner import ArchiveSummary, FailedFile, run_archive
from .work import ArchiveItem, FileOutcome, ModelSpec, outputs_complete

__all__ = ["ArchiveItem", "ArchiveSummary", "FailedFile", "FileOutcome", "InlineExecutor", "ModelSpec",
           "ProcessExecutor", "outputs_complete", "run_archive"]
