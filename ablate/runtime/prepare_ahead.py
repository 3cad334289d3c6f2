"""The study's data, prepared in a process of its own while the command starts its flow run.

``ablate run`` (and each command with the prepare step) begins the prepare step's work at once in
a separate process, where the study's data is not prepared yet, then imports Prefect and makes
its flow run; the prepare task adopts what that process did. Loading a data set from
scikit-learn imports scikit-learn (1.7 s on one core of the 2-core machine): the command's own
process, busy importing Prefect and its flows on one core, no longer waits for it.

The work is :func:`ablate.data.prepare_data`, whole: the same checks, the same files written the
same way (a folder renamed into place). Where it fails, the task prepares the data itself, in
its own process, and so raises the same error in place (in its logs, its state, the one line
the command prints).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import ClassVar

from ablate.data import fingerprint_inputs, prepare_data, read_manifest
from ablate.vocab.params import DataConfig, Params
from ablate.vocab.trial import PreparedData

# What the prepare task is called with: the data section, the study's seed, the folder (str).
Inputs = tuple[DataConfig, int, str]


class PrepareAhead:
    """Data sets being prepared for a flow run this process is about to make (see the module)."""

    _begun: ClassVar[dict[Inputs, Future[tuple[PreparedData, bool]]]] = {}

    @classmethod
    def begin(cls, params: Params) -> int:
        """Prepare each of the study's data sets whose folder lacks it, in one new process;
        returns how many were begun (none where all are prepared already)."""
        views = params.datasets or {"": params}  # as the study flow prepares them
        todo = [(v.data, params.study.seed, str(v.prepared_dir)) for v in views.values()]
        todo = [inputs for inputs in todo if not _up_to_date(*inputs)]
        if not todo:
            return 0
        # A fresh interpreter: a fork would copy the threads this process may already have.
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        for data, seed, out_dir in todo:
            cls._begun[(data, seed, out_dir)] = pool.submit(prepare_data, data, seed, Path(out_dir))
        pool.shutdown(wait=False)  # its process ends once its work is done
        return len(todo)

    @classmethod
    def adopt(cls, data: DataConfig, seed: int, out_dir: str) -> tuple[PreparedData, bool] | None:
        """What :meth:`begin` prepared for these inputs (waiting for it), once; None where nothing
        was begun for them, or where it failed (the caller prepares them, and says why)."""
        future = cls._begun.pop((data, seed, str(out_dir)), None)
        if future is None:
            return None
        try:
            return future.result()
        except Exception:  # noqa: BLE001  (prepared again by the caller, which raises it in place)
            return None


def _up_to_date(data: DataConfig, seed: int, out_dir: str) -> bool:
    manifest = read_manifest(Path(out_dir))
    return manifest is not None and manifest.get("fingerprint") == fingerprint_inputs(data, seed)
