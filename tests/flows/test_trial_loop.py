"""The trial loop's hold on the garbage collector: the driver's heap is frozen while trials run
and given back when the loop ends, however it ends (a deployment's process runs flow after flow).
And its imports of what the report needs: begun while the trials run, ended before the report."""

from __future__ import annotations

import gc
import sys
import weakref
from pathlib import Path

import pytest

from ablate.config.load import load_params
from ablate.trial.contract import RESULT
from flows.trials import _heap_frozen
from tests.flows.helpers import quick_study, write_params


def test_the_heap_is_frozen_during_the_loop_and_given_back_after_it() -> None:
    assert gc.get_freeze_count() == 0
    with _heap_frozen():
        assert gc.get_freeze_count() > 10_000  # pytest, Prefect, Dask: all out of the collector's reach
    assert gc.get_freeze_count() == 0


def test_the_heap_is_given_back_when_the_loop_fails() -> None:
    with pytest.raises(KeyboardInterrupt), _heap_frozen():
        raise KeyboardInterrupt
    assert gc.get_freeze_count() == 0


def test_garbage_is_collected_before_the_freeze_not_kept_by_it() -> None:
    class Node:
        pass

    cycle = Node()
    cycle.self = cycle  # unreachable once dropped, but only the cyclic collector frees it
    ref = weakref.ref(cycle)
    del cycle
    with _heap_frozen():
        gc.collect()
        assert ref() is None


def test_a_heap_frozen_by_the_host_process_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    for name in ("collect", "freeze", "unfreeze"):
        monkeypatch.setattr(gc, name, lambda *_, name=name: calls.append(name))
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 1000)  # the host froze its heap
    with _heap_frozen():
        pass
    assert calls == []
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 0)
    with _heap_frozen():
        assert calls == ["collect", "freeze"]
    assert calls == ["collect", "freeze", "unfreeze"]


def _probe_as_the_reports_imports(monkeypatch: pytest.MonkeyPatch, import_s: float) -> str:
    """The study flow's report preloads only tests/flows/import_probe.py, not imported yet, whose
    import takes ``import_s`` and records when it began and ended; returns its name."""
    import flows.pipeline

    probe = "tests.flows.import_probe"
    monkeypatch.delitem(sys.modules, probe, raising=False)
    monkeypatch.setattr(flows.pipeline, "REPORT_IMPORTS", (probe,))
    monkeypatch.setenv("ABLATE_TEST_PROBE_S", str(import_s))
    return probe


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_the_reports_imports_begin_while_the_trials_run_and_end_before_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.pipeline

    # Two threads importing one package (matplotlib) at once can be handed its half-made module
    # by Python's import locks: a report once failed so, importing while the preload still was.
    probe = _probe_as_the_reports_imports(monkeypatch, import_s=10)  # still importing as the trials end
    study = quick_study(n_trials=4)
    study["trial"]["options"]["sleep"] = 0.6  # each trial runs 0.6 s: long enough to import beside
    params = load_params(write_params(tmp_path, "preload", study))
    flows.pipeline.study_flow(params, ("prepare", "search", "analyze"))
    imported = sys.modules[probe]
    last_trial_end = max(p.stat().st_mtime for p in (params.study_dir / "trials").glob(f"*/{RESULT}"))
    assert imported.START < last_trial_end < imported.END
    assert imported.END <= (params.report_dir / "report.md").stat().st_mtime


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_trials_too_short_to_import_beside_leave_the_imports_to_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.pipeline
    import flows.trials

    # Short trials keep the driver busy: importing beside no-op trials slowed every trial.
    probe = _probe_as_the_reports_imports(monkeypatch, import_s=0)
    monkeypatch.setattr(flows.trials, "PRELOAD_MIN_TRIAL_S", 60.0)  # longer than any trial here, on any load
    params = load_params(write_params(tmp_path, "no-preload", quick_study(n_trials=4)))
    flows.pipeline.study_flow(params, ("prepare", "search", "analyze"))
    assert probe not in sys.modules  # begun by no trial (the report imports what it needs itself)
    assert (params.report_dir / "report.md").exists()
