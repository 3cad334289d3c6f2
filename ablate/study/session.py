"""search: an Optuna study driven by ask/tell from outside, so any scheduler can run the trials.

:class:`StudySession` owns the study's storage (a journal file under ``data/studies/<study>/``),
turns asked trials into :class:`~ablate.trial.contract.TrialSpec` s and records what comes back. It also
makes the study resumable: trials a killed run left RUNNING are either recovered from their
published result or put back in the queue under the same number; a study lock keeps two runs of
one study from interleaving.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.storages import JournalStorage
from optuna.trial import TrialState

from ablate import samplers
from ablate import space as sp
from ablate.errors import ConfigError, InvalidMetricError, MissingObjectiveError, TrialPruned
from ablate.pruners import make_pruner
from ablate.study.storage import (
    FINISHED,
    _append_user_attrs,
    clear_stale_journal_lock,
    constraint_attr,
    open_storage,
    worker_storage,
)
from ablate.trial.contract import check_metrics, read_pruned, read_result, read_stopped
from ablate.vocab import reasons
from ablate.vocab.objectives import (
    check_constrained,
    check_objective_known,
    constraint_values,
    describe_objectives,
    returned_metrics,
)
from ablate.vocab.params import Params, SearchConfig, StudyConfig
from ablate.vocab.provenance import Provenance
from ablate.vocab.trial import PreparedData, PruningLink, TrialResult, TrialSpec


def make_sampler(search: SearchConfig, seed: int, n_objectives: int = 1) -> optuna.samplers.BaseSampler:
    """The Optuna sampler ``search.sampler`` names (``auto`` resolved); see ablate.samplers."""
    return samplers.make_sampler(search.sampler, search.space, search.n_trials, seed, n_objectives)


def describe_search(search: SearchConfig, study: StudyConfig | None = None) -> dict[str, str]:
    """What the search runs with, for the run's output and the report's provenance, e.g.
    ``{"sampler": "gp (auto: 3 numeric knob(s) ...)", "pruner": "hyperband (min_resource=1, ...)"}``,
    and ``seeds``, ``timeout_s`` and ``enqueue`` where set, and the study's constraints with
    whether the sampler models them."""
    n_objectives = len(study.metrics) if study is not None else 1
    choice = samplers.resolve_sampler(search.sampler, search.space, search.n_trials, n_objectives)
    options = ", ".join(f"{k}={v}" for k, v in search.pruner_options.items())
    out = {
        "sampler": choice.describe() if choice.why else choice.name,
        "pruner": search.pruner + (f" ({options})" if options else ""),
    }
    # The search's other options, where set (shown on the run's search line too).
    if search.seeds > 1:
        out["seeds"] = f"{search.seeds} per configuration (their mean told)"
    if search.timeout_s is not None:
        out["timeout_s"] = f"{search.timeout_s:g}"
    if search.enqueue:
        out["enqueue"] = f"{len(search.enqueue)} configuration(s) first"
    if study is not None and study.constraints:
        how = "modelled by" if samplers.SAMPLERS[choice.name].uses_constraints else "recorded, not modelled by"
        out["constraints"] = f"{'; '.join(c.text for c in study.constraints)} ({how} {choice.name})"
    return out


def search_line(params: Params, settings: Mapping[str, str | int], cluster: str) -> str:
    """The run's line as a search starts: the study, its budget and objectives, the sampler and
    the options :func:`describe_search` put in words (a run's ``Provenance.settings``), and the cluster."""
    search, study = params.search_section, params.study
    options = f", pruner {settings['pruner']}" if search.pruner != "none" else ""
    options += "".join(
        f", {k} {settings[k]}" for k in ("seeds", "timeout_s", "enqueue", "constraints") if k in settings
    )
    objectives = f" of {describe_objectives(study.metrics, study.directions)}" if study.multi_objective else ""
    what = f"re-tune {params.tuning.arm}: study" if params.tuning is not None else "search: study"
    sampler = settings["sampler"]
    return f"{what} {study.name}, {search.n_trials} trials{objectives} (sampler {sampler}{options}) on a {cluster}"


def sampler_seed(seed: int, n_existing: int) -> int:
    """The sampler's seed for a run that starts with ``n_existing`` trials in the study.

    A resumed run must not restart the seeded sampler's random stream: it would ask the very
    configurations the first run already asked. Mixing in the trial count keeps runs
    reproducible and the streams apart.
    """
    if n_existing == 0:
        return seed
    return int(hashlib.sha256(f"{seed}:{n_existing}".encode()).hexdigest()[:8], 16)


@dataclass
class Recovery:
    """What opening the study found left over from a killed run."""

    recovered: int = 0  # RUNNING trials whose result was published: told COMPLETE
    requeued: int = 0  # RUNNING trials with no result: to be run again under the same number


class StudySession:
    """One study's ask/tell loop state. Only the driving process touches the storage."""

    def __init__(
        self, params: Params, prepared: PreparedData, code_version: str, provenance: Provenance | None = None
    ) -> None:
        self.params = params
        self.search = params.search_section
        self.provenance = provenance
        self.prepared = prepared
        self.code_version = code_version
        self.trials_dir = params.study_dir / "trials"
        clear_stale_journal_lock(params.study_dir)  # the flow holds the StudyLock
        storage = open_storage(params)
        self.study = optuna.create_study(
            storage=storage,
            study_name=params.study.name,
            directions=[optuna.study.StudyDirection[d.upper()] for d in params.study.directions],
            load_if_exists=True,
            pruner=make_pruner(self.search.pruner, self.search.pruner_options),
        )
        n_objectives = len(params.study.metrics)
        seed = sampler_seed(params.study.seed, len(self.study.trials))
        self.study.sampler = make_sampler(self.search, seed, n_objectives)
        stored = tuple(d.name.lower() for d in self.study.directions)
        if stored != params.study.directions:
            raise ConfigError(
                params.source,
                "study.direction",
                f"must stay {_show(stored)} for the existing study {params.study.name} (rename study.name to "
                f"start anew), but got {_show(params.study.directions)}",
            )
        self._in_flight: set[int] = set()  # asked, not yet told
        # Kept by the tells: counting finished trials in the storage costs O(trials) per ask.
        self._finished = self.n_finished()
        # Metrics some complete trial returned: a constraint on any other is a mistake in the params.
        # and an objective no trial returned is a misspelt study.metric.
        self._returned = returned_metrics(self.study)

    # -- resuming -------------------------------------------------------------------------------

    def recover(self) -> Recovery:
        """Deal with trials a killed run left RUNNING; call once, before the first ask."""
        rec = Recovery()
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            result = read_result(self.trials_dir / str(t.number))
            pruned = read_pruned(self.trials_dir / str(t.number))
            if result is not None and result.params == t.user_attrs.get("params"):
                self.tell_result(t.number, result)
                rec.recovered += 1
            elif pruned is not None and pruned["params"] == t.user_attrs.get("params"):
                self.tell_pruned(t.number, TrialPruned("pruned", pruned["step"], pruned["metrics"]))
                rec.recovered += 1
            elif (stopped := read_stopped(self.trials_dir / str(t.number))) and stopped["params"] == t.user_attrs.get(
                "params"
            ):  # stopped as hung by a run killed while it replaced the trial's worker: not run again
                self.tell_failure(t.number, stopped["message"], stopped["reason"], stopped["held_s"])
                rec.recovered += 1
            else:
                self._requeue(t)
                rec.requeued += 1
        for stale in self.trials_dir.glob(".*.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        return rec

    def _requeue(self, t: optuna.trial.FrozenTrial) -> None:
        # RUNNING -> WAITING keeps the trial's number and parameters: the next ask() pops it.
        storage = self.study._storage
        if not storage.set_trial_state_values(t._trial_id, TrialState.WAITING):
            storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            marks = {k: t.user_attrs[k] for k in ("enqueued",) if k in t.user_attrs}  # a baseline stays one
            self.study.enqueue_trial(t.params, user_attrs=marks)
            self._finished += 1

    # -- the ask/tell loop ----------------------------------------------------------------------

    def n_finished(self) -> int:
        return len(self.study.get_trials(deepcopy=False, states=FINISHED))

    def remaining(self) -> int:
        return max(0, self.search.n_trials - self.n_finished())

    def can_ask(self) -> bool:
        return self._finished + len(self._in_flight) < self.search.n_trials

    def ask(self) -> TrialSpec:
        trial = self.study.ask()
        sampled = sp.suggest_params(trial, self.search.space)
        params = {**self.params.trial.options, **sampled}
        trial.set_user_attr("params", params)
        self._in_flight.add(trial.number)
        return TrialSpec(
            study=self.params.study.name,
            number=trial.number,
            params=params,
            seed=self.params.study.seed,
            entrypoint=self.params.trial.entrypoint,
            code_version=self.code_version,
            data=self.prepared,
            trials_dir=str(self.trials_dir),
            timeout_s=self.params.execution.trial_timeout_s,
            device=self.params.execution.device,
            provenance=self.provenance,
            metric=self.params.study.metrics if self.params.study.multi_objective else self.params.study.metric,
            pruning=self._pruning_link(trial.number),
            monitor_system=self.params.execution.monitor_system,
            **(self.params.tuning.trial_fields(trial.number) if self.params.tuning else {}),
        )

    def _pruning_link(self, number: int) -> PruningLink | None:
        search = self.search
        if search.pruner == "none":
            return None
        return PruningLink(
            storage=worker_storage(self.params),
            study=self.params.study.name,
            trial_id=self._trial_id(number),
            metric=self.params.study.metric,
            pruner=search.pruner,
            options=dict(search.pruner_options),
        )

    def tell_result(self, number: int, result: TrialResult, attrs: dict[str, Any] | None = None) -> str | None:
        """Record a finished trial; returns an error when its metrics break the contract (a
        result from the cache may lack this study's metric). ``attrs``: more user attributes
        (a mean over seeds: its per-seed values)."""
        study = self.params.study
        try:
            check_metrics(result.metrics, number, self.params.trial.entrypoint, study.metrics)
            check_constrained(result.metrics, number, study.constraints, self._returned, self.params.source)
        except InvalidMetricError as err:
            self.tell_failure(number, str(err), reasons.INVALID_METRIC, result.duration_s, attrs)
            if isinstance(err, MissingObjectiveError):
                self.check_objective(number, err)
            return str(err)
        except ConfigError as err:  # a constraint on a metric no trial returned: stop the study
            self.tell_failure(number, err.rule, reasons.INVALID_METRIC, result.duration_s, attrs)
            raise
        self._returned |= set(result.metrics)
        values = [result.metrics[m] for m in study.metrics]
        self._set_attrs(
            number,
            {
                "metrics": result.metrics,
                "duration_s": result.duration_s,
                "worker": result.worker,
                "host": result.host,
                "worker_address": result.worker_address,
                "job_id": result.job_id,
                # Completed on another worker than it was sent to (see ablate.runtime.guard), or after
                # an attempt lost with its worker (see ablate.trial.execute).
                "reason": reasons.MOVED if result.moved else reasons.WORKER_DIED if result.interrupted else None,
                "note": result.moved or None,
                "straggler": result.straggler or None,
                "cached": result.cached,
                "cache_key": result.cache_key,
                "git_commit": result.provenance.run.commit if result.provenance and result.provenance.run else None,
                "code_version": result.provenance.code_version if result.provenance is not None else None,
                **(attrs or {}),
            },
            {constraint_attr(k): v for k, v in constraint_values(study.constraints, result.metrics).items()},
        )
        self.study.tell(number, values if study.multi_objective else values[0])
        self._in_flight.discard(number)
        self._finished += 1
        return None

    def check_objective(self, number: int, err: MissingObjectiveError) -> None:
        """Stop the study (ConfigError) when a trial lacks an objective no trial ever returned."""
        check_objective_known(err, number, self._returned, self.params.source)

    def tell_failure(
        self, number: int, error: str, reason: str, duration_s: float | None = None, attrs: dict[str, Any] | None = None
    ) -> None:
        self._set_attrs(number, {"error": error, "reason": reason, "duration_s": duration_s, **(attrs or {})})
        self.study.tell(number, state=TrialState.FAIL)
        self._in_flight.discard(number)
        self._finished += 1

    def tell_pruned(self, number: int, pruned: TrialPruned, duration_s: float | None = None) -> None:
        """Record a trial the pruner stopped: PRUNED, reason ``pruned``, its metrics at that step.
        Optuna keeps its last reported value as the trial's value."""
        self._set_attrs(number, {"metrics": pruned.metrics, "reason": "pruned", "duration_s": duration_s})
        self.study.tell(number, state=TrialState.PRUNED)
        self._in_flight.discard(number)
        self._finished += 1

    # Optuna's storage addresses trials by id, the study by number; these private attributes are
    # the only way from one to the other outside optimize().
    def _trial_id(self, number: int) -> int:
        return self.study._storage.get_trial_id_from_study_id_trial_number(self.study._study_id, number)

    def _set_attrs(self, number: int, attrs: dict[str, Any], system_attrs: dict[str, Any] | None = None) -> None:
        storage = self.study._storage
        trial_id = self._trial_id(number)
        if isinstance(storage, JournalStorage):
            _append_user_attrs(storage, trial_id, attrs, system_attrs or {})
            return
        for key, value in attrs.items():
            storage.set_trial_user_attr(trial_id, key, value)
        for key, value in (system_attrs or {}).items():
            storage.set_trial_system_attr(trial_id, key, value)


def _show(directions: tuple[str, ...]) -> str:
    return directions[0] if len(directions) == 1 else f"[{', '.join(directions)}]"
