"""The trial loop's hold on the garbage collector: the driver's heap is frozen while trials run
and given back when the loop ends, however it ends (a deployment's process runs flow after flow)."""

from __future__ import annotations

import gc
import weakref

import pytest

from flows.trials import _heap_frozen


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
