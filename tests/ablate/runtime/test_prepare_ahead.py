"""The study's data prepared ahead, in a process of its own, and adopted by the prepare step."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ablate.config.load import load_params
from ablate.data import prepare_data, read_manifest
from ablate.errors import DataError
from ablate.runtime.prepare_ahead import PrepareAhead
from ablate.vocab.params import Params
from tests.flows.helpers import write_params


def study(tmp_path: Path, source: str) -> Params:
    return load_params(write_params(tmp_path, "ahead", {"data": {"source": source, "target": "y"}}))


def table(path: Path, rows: int) -> str:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows), "y": np.arange(rows) % 2})
    frame.to_csv(path, index=False)
    return str(path)


def test_data_begun_ahead_is_prepared_by_another_process_and_adopted_once(tmp_path: Path) -> None:
    params = study(tmp_path, table(tmp_path / "t.csv", 60))
    assert read_manifest(params.prepared_dir) is None
    before = {p.pid for p in multiprocessing.active_children()}

    assert PrepareAhead.begin(params) == 1

    workers = [p for p in multiprocessing.active_children() if p.pid not in before]
    assert len(workers) == 1 and workers[0].pid != os.getpid()
    os.kill(workers[0].pid, signal.SIGINT)  # Ctrl-C reaches it too, from the terminal: the command's to handle
    adopted = PrepareAhead.adopt(params.data, params.study.seed, str(params.prepared_dir))
    assert adopted is not None
    prepared, worked = adopted
    assert worked and read_manifest(params.prepared_dir) is not None
    # The same arrays as the prepare step makes in its own process.
    again, _ = prepare_data(params.data, params.study.seed, tmp_path / "here")
    assert prepared.data_hash == again.data_hash and prepared.shapes == again.shapes
    assert prepared.path == str(params.prepared_dir)
    # Adopted once; another flow run in this process prepares for itself. The process ended with its work.
    assert PrepareAhead.adopt(params.data, params.study.seed, str(params.prepared_dir)) is None
    assert not workers[0].is_alive()


def test_data_already_prepared_begins_nothing(tmp_path: Path) -> None:
    params = study(tmp_path, table(tmp_path / "t.csv", 60))
    prepare_data(params.data, params.study.seed, params.prepared_dir)

    assert PrepareAhead.begin(params) == 0
    assert PrepareAhead.adopt(params.data, params.study.seed, str(params.prepared_dir)) is None


def test_data_that_fails_ahead_is_left_to_the_step_which_raises_it_in_place(tmp_path: Path) -> None:
    params = study(tmp_path, table(tmp_path / "t.csv", 4))  # too few rows for a stratified split

    assert PrepareAhead.begin(params) == 1
    assert PrepareAhead.adopt(params.data, params.study.seed, str(params.prepared_dir)) is None
    with pytest.raises(DataError, match="cannot split 4 rows"):
        prepare_data(params.data, params.study.seed, params.prepared_dir)
    # Neither process left a folder, whole or half-written.
    assert not params.prepared_dir.parent.exists() or list(params.prepared_dir.parent.iterdir()) == []


def test_work_not_adopted_is_stopped_and_leaves_no_folder_behind(tmp_path: Path) -> None:
    """A command that ends before its prepare step (no server, the study locked, an error) stops
    the process; whatever it had begun to write is removed, nothing is half-written."""
    params = study(tmp_path, "sklearn:digits")
    before = {p.pid for p in multiprocessing.active_children()}
    assert PrepareAhead.begin(params) == 1
    (process,) = [p for p in multiprocessing.active_children() if p.pid not in before]

    PrepareAhead.abandon()

    assert not process.is_alive()
    assert PrepareAhead.adopt(params.data, params.study.seed, str(params.prepared_dir)) is None
    folder = params.prepared_dir.parent
    left = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    assert left in ([], [params.prepared_dir.name])  # stopped before it renamed, or done whole
    if left:
        assert read_manifest(params.prepared_dir) is not None
