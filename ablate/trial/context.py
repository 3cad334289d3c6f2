"""What a trial function gets besides its parameters: :class:`TrialContext`."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from ablate.data import load_arrays, read_features
from ablate.errors import TrialError, TrialPruned, TrialTimeoutError
from ablate.pruners.link import report_step
from ablate.trial.contract import HISTORY
from ablate.trial.devices import nvidia_driver_present
from ablate.trial.events import STEP, announce
from ablate.trial.live import TrialLive
from ablate.vocab.trial import PreparedData, TrialSpec


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
        self.live = TrialLive(out_dir, spec.monitor_system)

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
        with (self.out_dir / HISTORY).open("a") as f:
            f.write(json.dumps(row) + "\n")
        self.live.step(int(step), {k: v for k, v in row.items() if k != "step"})
        announce(STEP, step=int(step))  # the driver times it against its peers (stragglers)
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
