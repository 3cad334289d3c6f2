"""The trial loop's hold on the garbage collector: the driver's heap is frozen while trials run
and given back when the loop ends, however it ends (a deployment's process runs flow after flow)."""

from __future__ import annotations

import gc

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
