"""search: an Optuna study driven by ask/tell from outside, so any scheduler can run the trials.

:class:`StudySession` owns the study's storage (a journal file under ``data/studies/<study>/``),
turns asked trials into :class:`~ablate.trial.TrialSpec` s and records what comes back. It also
makes the study resumable: trials a killed run left RUNNING are either recovered from their
published result or put back in the queue under the same number; a study lock keeps two runs of
one study from interleaving.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from ablate import samplers
from ablate import space as sp
from ablate.config import Params, SearchConfig
from ablate.data import PreparedData
from ablate.errors import ConfigError, InvalidMetricError, TrialPruned
from ablate.pruners import make_pruner
from ablate.pruners.link import PruningLink
from ablate.study_lock import StudyLock, StudyLockedError  # noqa: F401  (re-exported)
from ablate.trial import TrialResult, TrialSpec, check_metrics, read_pruned, read_result
from ablate.trials_table import best_of, count_states, trials_frame  # noqa: F401  (callers of ablate.search keep working)

JOURNAL = "optuna.journal"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def make_sampler(search: SearchConfig, seed: int) -> optuna.samplers.BaseSampler:
    """The Optuna sampler ``search.sampler`` names (``auto`` resolved); see ablate.samplers."""
    return samplers.make_sampler(search.sampler, search.space, search.n_trials, seed)


def describe_search(search: SearchConfig) -> dict[str, str]:
    """What the search runs with, for the run's output and the report's provenance, e.g.
    ``{"sampler": "gp (auto: 3 numeric knob(s) ...)", "pruner": "hyperband (min_resource=1, ...)"}``."""
    choice = samplers.resolve_sampler(search.sampler, search.space, search.n_trials)
    options = ", ".join(f"{k}={v}" for k, v in search.pruner_options.items())
    return {
        "sampler": choice.describe() if choice.why else choice.name,
        "pruner": search.pruner + (f" ({options})" if options else ""),
    }


def sampler_seed(seed: int, n_existing: int) -> int:
    """The sampler's seed for a run that starts with ``n_existing`` trials in the study.

    A resumed run must not restart the seeded sampler's random stream: it would ask the very
    configurations the first run already asked. Mixing in the trial count keeps runs
    reproducible and the streams apart.
    """
    if n_existing == 0:
        return seed
    return int(hashlib.sha256(f"{seed}:{n_existing}".encode()).hexdigest()[:8], 16)


def open_storage(study_dir: Path) -> JournalStorage:
    study_dir.mkdir(parents=True, exist_ok=True)
    return JournalStorage(_JournalFile(str(study_dir / JOURNAL)))


class _JournalFile(JournalFileBackend):
    """Optuna's journal file, appended under its lock but without an fsync per append.

    Optuna fsyncs every append (each ask, param, attribute and tell): five or more per trial,
    about half the driver's time per trial with short trials on a busy disk. Without the fsync
    an append still reaches the page cache before it returns, so a killed run (SIGKILL, the OOM
    killer) loses nothing. A crash of the machine can lose the last appends (as it can lose the
    trial folders written just before it): the trials the journal still holds as running are
    then told from their result folders on resume (StudySession.recover), later ones run again.
    Optuna's reader skips a torn last line.
    """

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        from optuna.storages.journal._file import get_lock_file

        text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
        with get_lock_file(self._lock), open(self._file_path, "ab") as f:
            f.write(text.encode("utf-8"))


def clear_stale_journal_lock(study_dir: Path) -> bool:
    """Remove the journal's lock file left by a process killed while appending to it.

    Only call this holding the :class:`StudyLock`: then no other process writes this study, and
    a lock file can only be stale. (Optuna itself would wait out a 30 s grace period first.)
    """
    lock = study_dir / (JOURNAL + ".lock")
    if lock.is_symlink() or lock.exists():
        lock.unlink()
        return True
    return False


@dataclass
class Recovery:
    """What opening the study found left over from a killed run."""

    recovered: int = 0  # RUNNING trials whose result was published: told COMPLETE
    requeued: int = 0  # RUNNING trials with no result: to be run again under the same number


class StudySession:
    """One study's ask/tell loop state. Only the driving process touches the storage."""

    def __init__(
        self, params: Params, prepared: PreparedData, code_version: str, provenance: dict[str, Any] | None = None
    ) -> None:
        self.params = params
        self.provenance = provenance or {}
        self.prepared = prepared
        self.code_version = code_version
        self.trials_dir = params.study_dir / "trials"
        clear_stale_journal_lock(params.study_dir)  # the flow holds the StudyLock
        storage = open_storage(params.study_dir)
        self.study = optuna.create_study(
            storage=storage,
            study_name=params.study.name,
            direction=params.study.direction,
            load_if_exists=True,
            pruner=make_pruner(params.search.pruner, params.search.pruner_options),
        )
        self.study.sampler = make_sampler(params.search, sampler_seed(params.study.seed, len(self.study.trials)))
        if self.study.direction.name.lower() != params.study.direction:
            raise ConfigError(
                params.source,
                "study.direction",
                f"must stay {self.study.direction.name.lower()} for the existing study "
                f"{params.study.name} (rename study.name to start anew), but got {params.study.direction}",
            )
        self._in_flight: set[int] = set()  # asked, not yet told
        # Kept by the tells: counting finished trials in the storage costs O(trials) per ask.
        self._finished = self.n_finished()

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
            self.study.enqueue_trial(t.params)
            self._finished += 1

    # -- the ask/tell loop ----------------------------------------------------------------------

    def n_finished(self) -> int:
        return len(self.study.get_trials(deepcopy=False, states=FINISHED))

    def remaining(self) -> int:
        return max(0, self.params.search.n_trials - self.n_finished())

    def can_ask(self) -> bool:
        return self._finished + len(self._in_flight) < self.params.search.n_trials

    def ask(self) -> TrialSpec:
        trial = self.study.ask()
        sampled = sp.suggest_params(trial, self.params.search.space)
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
            metric=self.params.study.metric,
            pruning=self._pruning_link(trial.number),
        )

    def _pruning_link(self, number: int) -> PruningLink | None:
        search = self.params.search
        if search.pruner == "none":
            return None
        return PruningLink(
            storage=str((self.params.study_dir / JOURNAL).resolve()),
            study=self.params.study.name,
            trial_id=self._trial_id(number),
            metric=self.params.study.metric,
            pruner=search.pruner,
            options=dict(search.pruner_options),
        )

    def tell_result(self, number: int, result: TrialResult) -> str | None:
        """Record a finished trial; returns an error when its metrics break the contract (a
        result from the cache may lack this study's metric)."""
        metric = self.params.study.metric
        try:
            check_metrics(result.metrics, number, self.params.trial.entrypoint, metric)
        except InvalidMetricError as err:
            self.tell_failure(number, str(err), "invalid_metric", result.duration_s)
            return str(err)
        value = result.metrics[metric]
        self._set_attrs(
            number,
            {
                "metrics": result.metrics,
                "duration_s": result.duration_s,
                "worker": result.worker,
                "cached": result.cached,
                "cache_key": result.cache_key,
                "git_commit": _commit_of(result.provenance),
                "code_version": result.provenance.get("code_version"),
            },
        )
        self.study.tell(number, value)
        self._in_flight.discard(number)
        self._finished += 1
        return None

    def tell_failure(self, number: int, error: str, reason: str, duration_s: float | None = None) -> None:
        self._set_attrs(number, {"error": error, "reason": reason, "duration_s": duration_s})
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

    def _set_attrs(self, number: int, attrs: dict[str, Any]) -> None:
        storage = self.study._storage
        trial_id = self._trial_id(number)
        if isinstance(storage, JournalStorage):
            _append_user_attrs(storage, trial_id, attrs)
            return
        for key, value in attrs.items():
            storage.set_trial_user_attr(trial_id, key, value)


def _append_user_attrs(storage: JournalStorage, trial_id: int, attrs: dict[str, Any]) -> None:
    """Set a trial's user attributes with one append to the journal.

    Optuna's ``set_trial_user_attr`` appends (takes the file lock, writes, fsyncs) once per
    attribute: seven per finished trial, most of the driver's time per trial with no-op trials.
    The same operations (one per attribute, as Optuna's replay expects) go in one append here.
    Private API of optuna.storages.JournalStorage (5.0), kept to this function.
    """
    from optuna.storages.journal._storage import JournalOperation

    with storage._thread_lock:
        worker_id = storage._replay_result.worker_id
        logs = [
            {
                "op_code": JournalOperation.SET_TRIAL_USER_ATTR,
                "worker_id": worker_id,
                "trial_id": trial_id,
                "user_attr": {key: value},
            }
            for key, value in attrs.items()
        ]
        storage._backend.append_logs(logs)
        storage._sync_with_backend()


# ---------------------------------------------------------------------------------------------
# Reading a study back (for reports)


def load_study(params: Params) -> optuna.Study | None:
    """The persisted study, or None when it was never run."""
    if not (params.study_dir / JOURNAL).exists():
        return None
    try:
        return optuna.load_study(study_name=params.study.name, storage=open_storage(params.study_dir))
    except KeyError:
        return None


def _commit_of(provenance: dict[str, Any]) -> str | None:
    commit = provenance.get("git_commit")
    return f"{commit[:12]}{'-dirty' if provenance.get('git_dirty') else ''}" if commit else None


LAST_RUN = "last_run.json"


def write_last_run(params: Params, run: dict[str, Any]) -> None:
    """Keep what the last search did (executed, cached, ...) with the study, for its report."""
    path = params.study_dir / LAST_RUN
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(run, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


def read_last_run(params: Params) -> dict[str, Any]:
    try:
        return json.loads((params.study_dir / LAST_RUN).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"executed": 0, "cached": 0, "recovered": 0, "requeued": 0}


def needs_trials(params: Params) -> bool:
    """Whether the study lacks finished trials (so a cluster must be started)."""
    study = load_study(params)
    if study is None:
        return True
    finished = study.get_trials(deepcopy=False, states=FINISHED)
    return len(finished) < params.search.n_trials
