"""Unit tests for ablate.trial.failures: the reason a trial failed, and whether to retry it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from distributed import KilledWorker
from distributed.comm.core import CommClosedError

from ablate.errors import InvalidMetricError, TrialError, TrialTimeoutError
from ablate.trial.failures import REASONS, Verdict, classify, signature

CASES = [
    # (exception, reason, retry the first time)
    (TrialTimeoutError("trial 1: timeout: ran past execution.trial_timeout_s=5"), "timeout", False),
    (
        InvalidMetricError("trial 1: study.metric 'val_accuracy' must be a finite number, but got nan"),
        "invalid_metric",
        False,
    ),
    (TrialError("trial 1: the test split is held out from the search"), "error", False),
    (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), "oom", True),
    (RuntimeError("CUDA error: out of memory"), "oom", True),
    (MemoryError(), "oom", True),
    (KilledWorker("trial-3", SimpleNamespace(address="tcp://127.0.0.1:4000"), 3), "worker_died", False),
    (CommClosedError("in <TCP (closed)>: Stream is closed"), "worker_died", True),
    (ConnectionResetError(104, "Connection reset by peer"), "error", True),
    (OSError(5, "Input/output error"), "error", True),
    (ValueError("boom"), "error", True),
    (FileNotFoundError(2, "No such file or directory", "x.csv"), "error", True),
]


@pytest.mark.parametrize(("exc", "reason", "retry"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_classify_names_the_reason_and_whether_to_retry(exc: BaseException, reason: str, retry: bool) -> None:
    assert classify(exc) == Verdict(reason, retry)
    assert reason in REASONS


@pytest.mark.parametrize(
    "make",
    [
        lambda: ValueError("boom"),
        lambda: FileNotFoundError(2, "No such file or directory", "x.csv"),
        lambda: KeyError("lr"),
    ],
    ids=["ValueError", "FileNotFoundError", "KeyError"],
)
def test_the_same_exception_twice_from_the_trial_is_not_retried_again(make) -> None:  # noqa: ANN001
    first = make()
    assert classify(make(), seen=[signature(first)]) == Verdict("error", False)
    assert classify(type(first)("another message"), seen=[signature(first)]).retry


@pytest.mark.parametrize(
    "exc",
    [torch.cuda.OutOfMemoryError("CUDA out of memory"), ConnectionResetError(104, "reset"), OSError(5, "I/O")],
    ids=["oom", "connection", "io"],
)
def test_transient_faults_are_retried_even_when_they_repeat(exc: BaseException) -> None:
    assert classify(exc, seen=[signature(exc)] * 2).retry
