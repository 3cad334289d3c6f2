"""analyze: render the study's report as files and as Prefect artifacts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from ablate.report.outcome import ReportFiles, StudyOutcome
from ablate.vocab.facts import RunFacts
from ablate.vocab.params import Params

if TYPE_CHECKING:
    import pandas as pd

# Rows of the trials table artifact: Prefect refuses to publish an artifact event over 1.5 MB
# (a 5,000-trial table is about 3 MB), so a bigger study's artifact holds its best trials.
ARTIFACT_ROWS = 1000
# What analyze imports when it runs (below), by name, in steps of at most ~0.35 s (2 cores): the
# study flow's trial loop imports them one at a time while it waits on trials (flows.trials.preloading).
IMPORTS = (
    "sklearn.ensemble",  # optuna.importance's fANOVA
    "optuna.importance",
    "scipy.stats",
    "matplotlib",
    "matplotlib.figure",
    "statsmodels.stats.multitest",
    "statsmodels.stats.power",
    "ablate.report.build",
    "ablate.report.model",
    "ablate.report.write",
)


@task(name="analyze", cache_policy=NO_CACHE, persist_result=False)
def analyze(params: Params, run: RunFacts) -> StudyOutcome:
    """Write the report; return the run with the study as the report found it and its files."""
    # Imported here, not with this module: the report's figures and statistics (matplotlib,
    # scipy.stats, statsmodels: ~0.8 s) are not on the way from `ablate run` to its first trial.
    from ablate.report.build import build_report_input
    from ablate.report.model import capped_trials, run_record
    from ablate.report.write import write_report

    inp = build_report_input(params, run)
    files = ReportFiles.of(write_report(params.report_dir, inp))
    key = re.sub(r"[^a-z0-9-]+", "-", params.study.name.lower()).strip("-") or "study"
    create_markdown_artifact(
        markdown=files.markdown.read_text(),
        key=f"{key}-report",
        description=f"ablate report of study {params.study.name}",
    )
    if inp.search:
        trials, note = capped_trials(inp, ARTIFACT_ROWS)
        what = f"trials of study {params.study.name}" + (f": {note}" if note else "")
        create_table_artifact(table=_records(trials), key=f"{key}-trials", description=what)
    if inp.importance is not None and not inp.importance.table.empty:
        create_table_artifact(
            table=_records(inp.importance.table),
            key=f"{key}-importance",
            description=f"parameter importance of study {params.study.name} (importance.csv)",
        )
    if inp.ablation is not None and files.ablation_md is not None:
        create_markdown_artifact(
            markdown=files.ablation_md.read_text(),
            key=f"{key}-ablation",
            description=f"ablation of study {params.study.name}",
        )
        create_table_artifact(
            table=_records(inp.ablation.table), key=f"{key}-ablation-table", description="ablation.csv"
        )
        if files.ablation_paragraph_md is not None:
            create_markdown_artifact(
                markdown=files.ablation_paragraph_md.read_text(),
                key=f"{key}-ablation-paragraph",
                description=f"the ablation of study {params.study.name} as a paper would write it (from ablation.csv)",
            )
    get_run_logger().info("report written to %s", files.html)
    return StudyOutcome(inp.run, files, run_record(inp))


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
