"""Unit tests for ablate.trial.cache: the content-addressed store of finished trials."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ablate.trial.cache import TrialCache, run_cached
from ablate.trial.context import TrialContext
from ablate.trial.contract import ERROR, RESULT, read_result
from ablate.trial.entrypoint import load_entrypoint
from ablate.vocab.trial import PreparedData, TrialSpec

CALLS: list[int] = []


def counting_trial(params: dict[str, Any], ctx: TrialContext) -> dict[str, float]:
    CALLS.append(ctx.number)
    ctx.report(1, {"loss": 0.5})
    (ctx.out_dir / "model.bin").write_bytes(bytes(range(256)) * 4)
    (ctx.out_dir / "sub").mkdir()
    (ctx.out_dir / "sub" / "note.txt").write_text(f"written by trial {ctx.number}")
    return {"val_accuracy": float(params["x"])}


def failing_trial(params: dict[str, Any], ctx: TrialContext) -> dict[str, float]:
    CALLS.append(ctx.number)
    raise RuntimeError("no luck")


def entry(func: Any) -> str:
    ep = f"{__name__}:{func.__name__}"
    assert load_entrypoint(ep) is func
    return ep


DATA = PreparedData(
    path="/nonexistent", data_hash="a" * 64, task="classification", n_features=2, n_classes=2, shapes={}
)


def make_spec(tmp_path: Path, number: int, x: float = 0.5, func: Any = counting_trial) -> TrialSpec:
    return TrialSpec(
        study="unit",
        number=number,
        params={"x": x},
        seed=0,
        entrypoint=entry(func),
        code_version="v1",
        data=DATA,
        trials_dir=str(tmp_path / "trials"),
        device="cpu",
    )


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def test_second_run_is_restored_from_the_cache(tmp_path: Path) -> None:
    cache_root = tmp_path / "cache"
    first = run_cached(make_spec(tmp_path, 0), str(cache_root))
    assert not first.cached and first.number == 0 and CALLS == [0]
    key = first.cache_key
    entry_dir = TrialCache(cache_root).entry(key)
    assert entry_dir == cache_root / key[:2] / key and (entry_dir / RESULT).exists()

    second = run_cached(make_spec(tmp_path, 5), str(cache_root))
    assert CALLS == [0]  # not run again
    assert second.cached and second.number == 5
    assert second.metrics == first.metrics and second.cache_key == key
    assert second == dataclasses.replace(first, number=5, cached=True)

    out = tmp_path / "trials" / "5"
    assert sorted(p.name for p in out.iterdir()) == [
        "cached_from.json",
        "dvclive",
        "history.jsonl",
        "model.bin",
        "params.json",
        RESULT,
        "sub",
        "trial.log",
    ]
    assert (out / "model.bin").read_bytes() == bytes(range(256)) * 4
    assert (out / "sub" / "note.txt").read_text() == "written by trial 0"
    assert json.loads((out / "cached_from.json").read_text()) == {"cache_key": key, "number": 0}
    assert read_result(out) == second
    # Files are hard-linked where the file system allows ...
    assert os.path.samefile(out / "model.bin", entry_dir / "model.bin")
    # ... so result.json must have been replaced, not rewritten in place: the entry and the
    # original trial still say number 0, not cached.
    for original in (entry_dir, tmp_path / "trials" / "0"):
        kept = read_result(original)
        assert kept is not None and kept.number == 0 and not kept.cached, original
    assert not (entry_dir / "cached_from.json").exists()
    assert not (tmp_path / "trials" / "0" / "cached_from.json").exists()
    assert sorted(p.name for p in (tmp_path / "trials").iterdir()) == ["0", "5"]  # no .tmp- left


def test_a_third_number_restores_from_the_original_entry(tmp_path: Path) -> None:
    cache_root = str(tmp_path / "cache")
    run_cached(make_spec(tmp_path, 0), cache_root)
    run_cached(make_spec(tmp_path, 1), cache_root)
    third = run_cached(make_spec(tmp_path, 2), cache_root)
    assert third.cached and third.number == 2 and CALLS == [0]
    cached_from = json.loads((tmp_path / "trials" / "2" / "cached_from.json").read_text())
    assert cached_from["number"] == 0
    assert read_result(tmp_path / "trials" / "1").number == 1  # restoring 2 left 1 alone


def test_different_params_miss_the_cache(tmp_path: Path) -> None:
    cache_root = str(tmp_path / "cache")
    a = run_cached(make_spec(tmp_path, 0, x=0.5), cache_root)
    b = run_cached(make_spec(tmp_path, 1, x=0.7), cache_root)
    assert not b.cached and CALLS == [0, 1]
    assert a.cache_key != b.cache_key
    assert b.metrics == {"val_accuracy": 0.7}
    cache = TrialCache(cache_root)
    assert cache.lookup(a.cache_key).metrics == {"val_accuracy": 0.5}
    assert cache.lookup(b.cache_key).metrics == {"val_accuracy": 0.7}


def test_restore_replaces_an_existing_trial_folder(tmp_path: Path) -> None:
    cache_root = str(tmp_path / "cache")
    run_cached(make_spec(tmp_path, 0), cache_root)
    stale = tmp_path / "trials" / "3"
    stale.mkdir(parents=True)
    (stale / ERROR).write_text("an earlier failed attempt")
    result = run_cached(make_spec(tmp_path, 3), cache_root)
    assert result.cached
    assert not (stale / ERROR).exists() and (stale / RESULT).exists()


def test_failed_trial_is_not_cached(tmp_path: Path) -> None:
    cache_root = tmp_path / "cache"
    spec = make_spec(tmp_path, 0, func=failing_trial)
    with pytest.raises(RuntimeError, match="no luck"):
        run_cached(spec, str(cache_root))
    assert TrialCache(cache_root).lookup(spec.cache_key) is None
    with pytest.raises(RuntimeError):
        run_cached(dataclasses.replace(spec, number=1), str(cache_root))
    assert CALLS == [0, 1]  # ran again: a failure is never served from the cache


def test_no_cache_root_always_executes(tmp_path: Path) -> None:
    run_cached(make_spec(tmp_path, 0), None)
    result = run_cached(make_spec(tmp_path, 1), None)
    assert not result.cached and CALLS == [0, 1]
    assert not (tmp_path / "cache").exists()


def test_store_keeps_the_first_entry(tmp_path: Path) -> None:
    cache = TrialCache(tmp_path / "cache")
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, number in ((a, 1), (b, 2)):
        folder.mkdir()
        (folder / RESULT).write_text(
            json.dumps(
                {
                    "number": number,
                    "metrics": {"m": 1.0},
                    "duration_s": 0.1,
                    "worker": "w",
                    "cached": False,
                    "cache_key": "k" * 64,
                }
            )
        )
    cache.store("k" * 64, a)
    cache.store("k" * 64, b)  # a no-op: the key is there
    assert cache.lookup("k" * 64).number == 1
    assert [p.name for p in cache.entry("k" * 64).parent.iterdir()] == ["k" * 64]


def test_lookup_and_restore_of_an_absent_key(tmp_path: Path) -> None:
    cache = TrialCache(tmp_path / "cache")
    assert cache.lookup("0" * 64) is None
    assert cache.restore("0" * 64, 1, tmp_path / "trials") is None
    assert not (tmp_path / "trials" / "1").exists()
