"""The flow that the deployments of ``prefect.yaml`` run: a study named by its params file.

Prefect parameters are JSON, so a deployment names a params file and ``--set`` overrides, and
this flow reads them as ``ablate run`` does: a bad file fails the flow run with the same one line
as its message (``ablate: error: ...`` on the terminal). It is named ``study``, as the flow of
``ablate run`` is, so the UI lists scheduled and interactive runs of a study under one flow, and
runs ``study_flow``'s body inside its own run (no nested ``study`` run).

``grow_by`` makes an anytime study: each run adds that many trials to the study's finished ones
(up to ``max_trials``), whatever ``search.n_trials`` says; a study at its cap runs no trial.

Each run ends by keeping the study's state as a DVC experiment named after the study and the
run's scheduled time (``digits-nightly-20261201-020000``): ``dvc exp show`` lists the runs.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Failed, State

from ablate.config.load import load_params
from ablate.errors import ConfigError
from ablate.runtime.experiments import experiment_name
from ablate.runtime.overrides import check_overrides_recorded
from ablate.study.growth import grown_n_trials
from ablate.vocab.params import Params
from ablate.vocab.steps import STEPS
from flows.cli import validate
from flows.pipeline import run_name, study_flow
from tasks.experiment import record_experiment


def name_scheduled_run() -> str:
    """``<study> <scheduled time>``; the file's name stands in for a study it cannot read."""
    p = flow_run.parameters
    try:
        study = load_params(p["params_file"], p.get("overrides") or []).study.name
    except ConfigError:
        study = str(p["params_file"])
    return run_name(study, flow_run.scheduled_start_time)


@flow(name="study", flow_run_name=name_scheduled_run)
def scheduled_study_flow(
    params_file: str,
    overrides: list[str] | None = None,
    grow_by: int = 0,
    max_trials: int | None = None,
) -> dict[str, Any] | State:
    """Run a study end to end, as ``ablate run PARAMS_FILE --set OVERRIDE ...`` does.

    Args:
        params_file: the study's params file, relative to the project folder (the deployment's
            working directory), e.g. ``params/digits.yaml``.
        overrides: ``KEY=VALUE`` strings, as ``--set`` takes them.
        grow_by: when > 0, add this many trials to the study (``search.n_trials`` is set to its
            finished trials plus ``grow_by``).
        max_trials: with ``grow_by``, the most trials the study grows to.
    """
    try:
        params, overrides = load_scheduled(params_file, list(overrides or []), grow_by, max_trials)
    except ConfigError as err:
        return Failed(message=str(err))
    command = f"{params_file} {' '.join('--set ' + o for o in overrides)}".rstrip()
    print(f"study {params.study.name}: {command}", flush=True)
    outcome = study_flow.fn(params, STEPS)
    # Each scheduled run is kept as a DVC experiment: `dvc exp show` lists the nights.
    name = experiment_name(params.study.name, flow_run.scheduled_start_time)
    record = record_experiment(params, name, f"{flow_run.name}: {command}")
    print(f"dvc experiment: {record.describe()}", flush=True)
    return outcome.to_record() | {"experiment": record.to_dict()}


def load_scheduled(
    params_file: str, overrides: list[str], grow_by: int, max_trials: int | None
) -> tuple[Params, list[str]]:
    """The params as ``ablate run`` would check them, with the grown ``search.n_trials``."""
    params = validate(params_file, overrides)
    if grow_by:
        overrides = [*overrides, f"search.n_trials={grown_n_trials(params, grow_by, max_trials)}"]
        params = validate(params_file, overrides)
    check_overrides_recorded(params, overrides)
    return params, overrides
