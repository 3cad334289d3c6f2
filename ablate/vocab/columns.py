"""The trials table's columns (``trials.csv``, the report's table), owned here.

Every other column is a metric the trial function returned (the study's objectives first) or a
searched parameter, so neither may be named like a fixed column: the params file is checked for it
(``ablate.config.load``), and so is each trial's return value (``ablate.trial.contract``). Two of
them, the flags, are there only where they mean something: ``pareto`` in a study with several
objectives, ``feasible`` in one with constraints.
"""

from __future__ import annotations

LEADING = ("number", "state")  # then the flags, the metrics, the searched parameters
# pareto: on the Pareto front (several objectives); feasible: meets every constraint (complete
# trials of a study with constraints; empty for the others).
FLAGS = ("pareto", "feasible")
# How the trial came about: enqueued from search.enqueue (a baseline) or asked of the sampler, and
# the seeds it ran over (search.seeds: its metrics are their means; see ablate.study.repeats).
ORIGIN = ("enqueued", "n_seeds")
# reason: see ablate.vocab.reasons; duration_s: of a trial stopped as hung, how long it held
# its worker. straggler: why the run flagged it (ablate.runtime.guard); note: where it was moved.
OUTCOME = ("duration_s", "worker", "error", "reason", "straggler", "note")
# Where each trial ran: host, Dask worker address, batch job id (SLURM_JOB_ID, PBS_JOBID); see
# ablate.trial.execute.placement.
PLACEMENT = ("host", "worker_address", "job_id")
# Where each trial's result came from (from the cache or not, the code that computed it).
PROVENANCE = ("cached", "cache_key", "git_commit", "code_version")
FIXED_COLUMNS = (*LEADING, *FLAGS, *ORIGIN, *OUTCOME, *PLACEMENT, *PROVENANCE)


def table_columns(metrics: list[str], params: list[str], flags: tuple[str, ...] = ()) -> list[str]:
    """The columns of a table with these metric and parameter columns (and flags), in order."""
    return [*LEADING, *flags, *metrics, *params, *ORIGIN, *OUTCOME, *PLACEMENT, *PROVENANCE]
