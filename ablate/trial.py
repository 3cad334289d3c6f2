"""The trial contract: ``train(params: dict, ctx: TrialContext) -> dict[str, float]``.

A trial function is any module-level function of that shape, importable where it runs. It knows
nothing of Optuna, Prefect or DVC: it gets its parameters, a seed, its data through
``ctx.load_data()`` and an output folder, reports per-step progress through ``ctx.report`` and
returns its metrics by name. :func:`execute_trial` runs one and writes its outputs to
``<trials_dir>/<number>/`` through a temporary folder and a rename, so a retried or killed trial
never leaves a half-written folder.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import hashlib
import importlib
import importlib.util
import json
import logging
import math
import os
import shutil
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ablate import __version__
from ablate._atomic import replace_dir, staging_dir
from ablate.cluster import nvidia_driver_present
from ablate.data import PreparedData, load_arrays, read_features
from ablate.errors import ConfigError, InvalidMetricError, TrialError, TrialPruned, TrialTimeoutError
from ablate.pruners.link import PruningLink, report_step
from ablate.trials_table import FIXED_COLUMNS

TrialFunction = Callable[[dict[str, Any], "TrialContext"], dict[str, float]]
RESULT = "result.json"
ERROR = "error.txt"
PRUNED = "pruned.json"  # a pruned trial's folder: its step, last metrics and params


@dataclass(frozen=True)
class TrialSpec:
    """Everything a worker needs to run one trial; small and picklable (paths, not arrays)."""

    study: str
    number: int
    params: dict[str, Any]
    seed: int
    entrypoint: str
    code_version: str
    data: PreparedData
    trials_dir: str
    timeout_s: float | None = None
    device: str = "auto"
    provenance: dict[str, Any] = field(default_factory=dict)  # recorded, not part of the key
    metric: str = ""  # the study's objective: a trial without it as a finite number fails
    # Ablation trials: input columns removed (feature-group ablation), scoring on the held-out
    # test split, and a folder and name that say which arm and seed they are.
    drop_features: tuple[str, ...] = ()
    score_test: bool = False
    folder: str | None = None  # under trials_dir; default: the number
    name: str | None = None  # shown in progress lines and as the Prefect task run's name
    # Search trials of a study with a pruner: where ctx.report sends progress. Not part of the
    # cache key: a trial that was not pruned computed exactly what it would have without pruning.
    pruning: PruningLink | None = None

    @property
    def cache_key(self) -> str:
        """Content address of the result: what was run, on what data, with which code."""
        content: dict[str, Any] = {
            "params": self.params,
            "seed": self.seed,
            "data_hash": self.data.data_hash,
            "entrypoint": self.entrypoint,
            "code_version": self.code_version,
        }
        # Only when set, so the keys of plain search trials stay what they always were.
        if self.drop_features:
            content["drop_features"] = sorted(self.drop_features)
        if self.score_test:
            content["score_test"] = True
        return hash_json(content)

    @property
    def out_dir(self) -> Path:
        return Path(self.trials_dir) / (self.folder or str(self.number))

    @property
    def label(self) -> str:
        return self.name or f"trial-{self.number}"


@dataclass(frozen=True)
class TrialResult:
    """What a finished trial returns to the search (and what ``result.json`` holds)."""

    number: int
    metrics: dict[str, float]
    duration_s: float
    worker: str
    cached: bool
    cache_key: str
    params: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialResult:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


class TrialContext:
    """What a trial function gets besides its parameters.

    Attributes:
        seed: the trial's seed; seed every random generator from it.
        out_dir: a folder owned by this trial; anything written there is kept with the trial.
        number: the trial's number in its study.
        task: ``classification`` or ``regression``; ``n_classes`` is 0 for regression.
        n_features: input columns the trial gets (after an ablation dropped any).
        score_test: whether this trial may score the held-out test split (``load_test``):
            ablation arms do, search trials never do.
        log: a logger whose records go to the trial's ``trial.log``.
    """

    def __init__(self, spec: TrialSpec, out_dir: Path, deadline: float | None) -> None:
        self.seed = spec.seed
        self.number = spec.number
        self.out_dir = out_dir
        self.task = spec.data.task
        self.n_classes = spec.data.n_classes
        self.n_features = spec.data.n_features - len(spec.drop_features)
        self.score_test = spec.score_test
        self.log = logging.getLogger(f"ablate.trial.{spec.study}.{spec.number}")
        self.history: list[dict[str, float]] = []
        self._spec = spec
        self._deadline = deadline
        self._device: str | None = None

    @property
    def device(self) -> str:
        """``cuda`` when the trial may use this worker's GPU, else ``cpu``."""
        if self._device is None:
            self._device = resolve_device(self._spec.device)
        return self._device

    def load_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(X_train, y_train, X_val, y_val)``: standardized float32 features and targets.

        Copies: a trial may modify them freely without touching another trial's data.
        """
        X_tr, y_tr = self._split("train")
        X_va, y_va = self._split("val")
        return X_tr, y_tr, X_va, y_va

    def load_test(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X_test, y_test)``, standardized like the rest; only where ``score_test`` is true.

        Raises:
            TrialError: in a search trial: the search must never see the test split.
        """
        if not self.score_test:
            raise TrialError(
                f"trial {self.number}: the test split is held out from the search; "
                "load_test() must only be called when ctx.score_test is true"
            )
        return self._split("test")

    def _split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        d = self._spec.data
        X, y = load_arrays(d.path, d.data_hash, split)
        if self._spec.drop_features:
            keep = keep_columns(d, self._spec.drop_features)
            return X[:, keep], y.copy()  # fancy indexing copies
        return X.copy(), y.copy()

    def report(self, step: int, metrics: dict[str, float]) -> None:
        """Record progress at ``step`` (an epoch, say).

        Raises:
            TrialTimeoutError: the trial is out of time.
            TrialPruned: the study's pruner stopped the trial (search trials with a
                ``search.pruner`` only). Catch it to save a checkpoint, then re-raise it.
        """
        row = {"step": int(step), **{k: float(v) for k, v in metrics.items()}}
        self.history.append(row)
        with (self.out_dir / "history.jsonl").open("a") as f:
            f.write(json.dumps(row) + "\n")
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise TrialTimeoutError(
                f"trial {self.number}: timeout: ran past execution.trial_timeout_s={self._spec.timeout_s:g}"
            )
        link = self._spec.pruning
        if link is not None and report_step(link, step, row):
            value = row.get(link.metric)
            message = f"trial {self.number}: pruned at step {step} ({link.metric}={value:.4g})"
            raise TrialPruned(message, int(step), {k: v for k, v in row.items() if k != "step"})


def keep_columns(data: PreparedData, drop: tuple[str, ...]) -> list[int]:
    """Indices of the feature columns left when the columns named in ``drop`` are removed."""
    features = read_features(data.path, data.data_hash)
    return [i for i, name in enumerate(features) if name not in set(drop)]


def _torch_threads() -> int | None:
    torch = sys.modules.get("torch")  # only when the trial used torch
    return torch.get_num_threads() if torch is not None else None


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    # Without the NVIDIA driver the answer is cpu: importing torch to say so costs seconds on a
    # worker whose trial never used it, with the trial queued behind it waiting.
    if not nvidia_driver_present():
        return "cpu"
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_entrypoint(entrypoint: str) -> TrialFunction:
    """Import ``module:function``; raises ImportError/AttributeError as Python does."""
    module_name, _, func_name = entrypoint.partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    if not callable(func):
        raise TypeError(f"{entrypoint} is not callable")
    return func


def check_entrypoint(entrypoint: str, params_file: str) -> None:
    """At the edge: the trial function must import here (and so, on a local worker).

    ablate's own trial functions are only looked up in their source: importing them would
    import torch (seconds) in a command that may run no trial at all.
    """
    try:
        if entrypoint.partition(".")[0] == "ablate":
            _find_function(entrypoint)
        else:
            load_entrypoint(entrypoint)
    except Exception as err:  # whatever import raises, the user's fix is the same
        raise ConfigError(
            params_file,
            "trial.entrypoint",
            f"must name an importable module:function, but {entrypoint!r} gave {type(err).__name__}: {err}",
        ) from None


def _find_function(entrypoint: str) -> None:
    """Raise as an import would when ``module:function`` is not defined at module level."""
    module_name, _, func_name = entrypoint.partition(":")
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        raise ModuleNotFoundError(f"No module named {module_name!r}")
    tree = ast.parse(Path(spec.origin).read_bytes(), filename=spec.origin)
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if func_name not in names:
        raise AttributeError(f"module {module_name!r} has no attribute {func_name!r}")


def code_version(entrypoint: str) -> str:
    """Version of the trial code: the entrypoint module's source bytes and ablate's version."""
    module_name = entrypoint.partition(":")[0]
    spec = importlib.util.find_spec(module_name)
    origin = spec.origin if spec else None
    source = Path(origin).read_bytes() if origin and os.path.isfile(origin) else module_name.encode()
    return hashlib.sha256(source + __version__.encode()).hexdigest()[:16]


def hash_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------------------------
# Running one trial


def execute_trial(spec: TrialSpec) -> TrialResult:
    """Run the trial function and publish its outputs at ``spec.out_dir`` atomically."""
    with _ONE_TRIAL_AT_A_TIME:
        return _execute(spec)


# A worker process may hold a trial queued in a second thread (its Prefect bookkeeping overlaps
# the running trial), but only one trial computes at a time: torch's seed and thread pool are
# process-wide.
_ONE_TRIAL_AT_A_TIME = threading.Lock()


def _execute(spec: TrialSpec) -> TrialResult:
    tmp = staging_dir(spec.out_dir)
    try:
        start = time.monotonic()
        deadline = start + spec.timeout_s if spec.timeout_s else None
        ctx = TrialContext(spec, tmp, deadline)
        (tmp / "params.json").write_text(json.dumps(spec.params, indent=2, sort_keys=True) + "\n")
        with _trial_log(tmp / "trial.log", ctx.log), _interrupt_after(deadline, spec):
            ctx.log.info("trial %d of study %s: params %s, seed %d", spec.number, spec.study, spec.params, spec.seed)
            metrics = load_entrypoint(spec.entrypoint)(dict(spec.params), ctx)
            metrics = check_metrics(metrics, spec.number, spec.entrypoint, spec.metric)
            ctx.log.info("metrics %s", metrics)
        result = TrialResult(
            number=spec.number,
            metrics=metrics,
            duration_s=round(time.monotonic() - start, 4),
            worker=worker_name(),
            cached=False,
            cache_key=spec.cache_key,
            params=spec.params,
            provenance={
                **spec.provenance,
                "torch_threads": _torch_threads(),
                "params_hash": hash_json(spec.params)[:16],
                "data_hash": spec.data.data_hash,
                "code_version": spec.code_version,
                "seed": spec.seed,
                "device": ctx.device,
            },
        )
        (tmp / RESULT).write_text(result.to_json())
        replace_dir(tmp, spec.out_dir)
        return result
    except TrialPruned as err:
        # Published like a finished trial (params, log, history.jsonl), marked pruned: a resumed
        # run finds it and tells it PRUNED instead of running it again.
        pruned = {"step": err.step, "metrics": err.metrics, "params": spec.params}
        (tmp / PRUNED).write_text(json.dumps(pruned, indent=2, sort_keys=True) + "\n")
        replace_dir(tmp, spec.out_dir)
        raise
    except Exception:
        # Publish the failed attempt too (params, log, traceback): a FAIL trial keeps its evidence,
        # and a successful retry replaces it whole.
        (tmp / ERROR).write_text(traceback.format_exc())
        replace_dir(tmp, spec.out_dir)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_metrics(metrics: Any, number: int, entrypoint: str, metric: str = "") -> dict[str, float]:
    """What a trial function returned, checked against the contract.

    Args:
        metrics: the return value; must be a non-empty dict of finite numbers by name, no name
            a fixed column of the trials table.
        number: the trial's number, for the message.
        entrypoint: the trial function, for the message.
        metric: the study's objective, which must be among them ("": not checked).

    Returns:
        The metrics as floats.

    Raises:
        InvalidMetricError: what is wrong, e.g. ``trial 3: study.metric 'val_accuracy' must be
            a finite number, but got inf``. Deterministic, so never retried.
    """
    if not isinstance(metrics, dict) or not metrics:
        raise InvalidMetricError(
            f"trial {number}: {entrypoint} must return a non-empty dict of metrics, but got {metrics!r}"[:300]
        )
    out = {}
    for name, value in metrics.items():
        try:
            out[str(name)] = float(value)
        except (TypeError, ValueError):
            raise InvalidMetricError(
                f"trial {number}: metric {name!r} must be a number, but got {value!r}"[:300]
            ) from None
    shadowing = [name for name in out if name in FIXED_COLUMNS]
    if shadowing:
        raise InvalidMetricError(
            f"trial {number}: metric names must not be fixed columns of the trials table "
            f"({', '.join(FIXED_COLUMNS)}), but got {shadowing[0]!r}"
        )
    if metric and metric not in out:
        raise InvalidMetricError(
            f"trial {number}: study.metric {metric!r} must be among the returned metrics ({', '.join(out)}), "
            "but got none"
        )
    for name in sorted(out, key=lambda n: n != metric):  # the objective first
        if not math.isfinite(out[name]):
            which = "study.metric" if name == metric else "metric"
            raise InvalidMetricError(f"trial {number}: {which} {name!r} must be a finite number, but got {out[name]}")
    return out


@contextlib.contextmanager
def _trial_log(path: Path, logger: logging.Logger):
    """Send the trial's log records, and what it prints, to its own ``trial.log``."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with contextlib.redirect_stdout(handler.stream), contextlib.redirect_stderr(handler.stream):
            yield
    except TrialPruned as err:
        logger.info("%s", err)
        raise
    except BaseException:
        logger.exception("trial failed")
        raise
    finally:
        logger.removeHandler(handler)
        handler.close()


@contextlib.contextmanager
def _interrupt_after(deadline: float | None, spec: TrialSpec):
    """Raise TrialTimeoutError in this thread once ``deadline`` passes.

    ``ctx.report`` checks the deadline at every step; this also stops a trial that never
    reports. The exception is delivered between Python bytecodes (a long C call finishes first),
    the same mechanism Prefect's own task timeouts use in worker threads.
    """
    if deadline is None:
        yield
        return
    thread_id = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True}

    def fire() -> None:
        with lock:
            if state["active"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread_id), ctypes.py_object(TrialTimeoutError)
                )

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except TrialTimeoutError:
        raise TrialTimeoutError(
            f"trial {spec.number}: timeout: ran past execution.trial_timeout_s={spec.timeout_s:g}"
        ) from None
    finally:
        with lock:
            state["active"] = False
        timer.cancel()


def read_pruned(trial_dir: Path) -> dict[str, Any] | None:
    """A pruned trial's marker (step, metrics, params), or None."""
    try:
        return json.loads((trial_dir / PRUNED).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def read_result(trial_dir: Path) -> TrialResult | None:
    try:
        return TrialResult.from_dict(json.loads((trial_dir / RESULT).read_text()))
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None
