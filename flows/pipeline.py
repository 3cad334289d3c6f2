"""study_flow: prepare -> search -> analyze, one study from its params to its report."""

from __future__ import annotations

import time
from typing import Any

from prefect import flow

from ablate.cluster import plan_cluster
from ablate.config import Params
from ablate.errors import NoTrialCompletedError
from ablate.provenance import collect_provenance
from ablate.search import StudyLock, needs_trials
from flows.search import search_flow, task_runner_for
from tasks.analyze import analyze
from tasks.prepare import prepare


@flow(name="study")
def study_flow(params: Params) -> dict[str, Any]:
    """Run one study end to end and return the run summary written to ``run.json``."""
    start = time.monotonic()
    with StudyLock(params.study_dir):
        prepared = prepare(params.data, params.study.seed, str(params.prepared_dir))
        provenance = collect_provenance()
        run: dict[str, Any] = {"executed": 0, "cached": 0, "recovered": 0, "requeued": 0, "provenance": provenance}
        if needs_trials(params):
            plan = plan_cluster(params.execution, str(params.study_dir.parent.parent / ".dask"))
            print(
                f"search: study {params.study.name}, {params.search.n_trials} trials ({params.search.sampler}) "
                f"on a {plan.describe()}",
                flush=True,
            )
            run.update(
                search_flow.with_options(task_runner=task_runner_for(plan))(params, prepared, plan.workers, provenance)
            )
        else:
            print(
                f"search: study {params.study.name} already has its {params.search.n_trials} trials; nothing to run",
                flush=True,
            )
        run["wall_s"] = round(time.monotonic() - start, 3)
        report = analyze(params, run)
    summary = {**report["run"], "report": report["paths"]}
    if summary["complete"] == 0:
        raise NoTrialCompletedError(
            f"no trial completed: {summary['failed']} of {params.search.n_trials} trials failed; "
            f"see {params.report_dir / 'trials.csv'} for each error"
        )
    return summary
