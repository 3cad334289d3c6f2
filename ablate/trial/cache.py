"""A content-addressed store of finished trials.

An entry is a finished trial's whole output folder, stored under its cache key (a hash of its
params, seed, prepared-data hash, entrypoint and code version). A trial whose key is present is
not run again: its folder is restored under the new trial's number. Entries are written to a
temporary folder and renamed, so a reader sees a whole entry or none; files are hard-linked where
the file system allows (outputs are never modified in place, only replaced), else copied.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import traceback
from dataclasses import replace
from pathlib import Path

from ablate._atomic import replace_dir, staging_dir
from ablate.trial.contract import RESULT, read_result
from ablate.trial.execute import execute_trial
from ablate.vocab.trial import TrialResult, TrialSpec


class TrialCache:
    """Finished trials by cache key, under ``root/<key[:2]>/<key>/``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    def lookup(self, key: str) -> TrialResult | None:
        """The cached result for ``key``, or None."""
        return read_result(self.entry(key))

    def store(self, key: str, trial_dir: Path) -> None:
        """Keep a finished trial folder under ``key`` (a no-op when the key is already there)."""
        dest = self.entry(key)
        if (dest / RESULT).exists():
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=dest.parent))
        try:
            _link_tree(trial_dir, tmp)
            try:
                os.replace(tmp, dest)
            except OSError:  # another process stored the same key first; theirs is as good
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def restore(self, key: str, number: int, out_dir: Path) -> TrialResult | None:
        """Materialize the entry for ``key`` as trial ``number`` at ``out_dir``; None when there is none."""
        cached = self.lookup(key)
        if cached is None:
            return None
        tmp = staging_dir(out_dir)
        try:
            _link_tree(self.entry(key), tmp)
            result = replace(cached, number=number, cached=True)
            (tmp / RESULT).unlink()
            (tmp / RESULT).write_text(result.to_json())
            (tmp / "cached_from.json").write_text(
                json.dumps({"cache_key": key, "number": cached.number}, indent=2) + "\n"
            )
            replace_dir(tmp, out_dir)
            return result
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _link_tree(src: Path, dest: Path) -> None:
    """Hard-link every file of ``src`` into ``dest`` (which exists), copying across devices."""
    for path in src.rglob("*"):
        target = dest / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


def run_cached(spec: TrialSpec, cache_root: str | None) -> TrialResult:
    """Restore ``spec``'s result from the cache, or execute it and cache what it produced."""
    cache = TrialCache(cache_root) if cache_root else None
    if cache is not None:
        hit = cache.restore(spec.cache_key, spec.number, spec.out_dir)
        if hit is not None:
            return hit
    result = execute_trial(spec)
    if cache is not None:
        cache.store(spec.cache_key, spec.out_dir)
    return result


def run_cached_or_error(spec: TrialSpec, cache_root: str | None) -> TrialResult | Exception:
    """:func:`run_cached`, with the exception that ended the trial returned rather than raised.

    What a Dask worker runs: a task that raises is logged by the worker as "Compute Failed" with
    its whole traceback, on the terminal of the run, for every failed trial. The caller raises
    the exception again; its note carries the worker's traceback.
    """
    try:
        return run_cached(spec, cache_root)
    except Exception as err:  # noqa: BLE001  (returned to the caller, who raises it)
        err.add_note("on the worker:\n" + "".join(traceback.format_exception(err)).rstrip())
        return err
