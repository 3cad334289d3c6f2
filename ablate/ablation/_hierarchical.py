"""The child process of :func:`ablate.ablation.across.hierarchical_probs`: baycomp's hierarchical
test for each arm, read as JSON from stdin, its probabilities written as JSON to stdout."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from pathlib import Path

import numpy as np

SAMPLES_PER_CHAIN = 2500  # x 4 chains: 10,000 draws, P to about +-0.01


def build_lock_path() -> Path:
    """The lock that one process at a time holds over its first Stan call, in httpstan's cache.

    httpstan compiles a model into its cache on the first call from a Python executable, and two
    processes compiling at once race there: one deletes the other's half-built folder, or finds
    the module before its compiler log is written; the server then answers 500 in plain text,
    which PyStan reads as a JSON ``TAPE_ERROR`` (stan-dev/pystan#403). After one call has
    returned, the model is whole in the cache and later calls only read it."""
    from httpstan.cache import cache_directory

    return cache_directory() / "ablate-build.lock"


def main() -> None:
    from baycomp import HierarchicalTest
    from filelock import FileLock

    payload = json.load(sys.stdin)
    rope, seed = float(payload["rope"]), int(payload["seed"])
    logging.getLogger("httpstan").setLevel(logging.ERROR)
    lock = build_lock_path()
    lock.parent.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, (arm, (x, y)) in enumerate(payload["pairs"].items()):
        first = FileLock(lock) if i == 0 else contextlib.nullcontext()
        with first, contextlib.redirect_stdout(sys.stderr):  # Stan's progress, not the answer
            p = HierarchicalTest.probs(np.array(x), np.array(y), rope, nsamples=SAMPLES_PER_CHAIN, random_state=seed)
        out[arm] = [float(p[0]), float(p[1]), float(p[2])] if rope > 0 else [float(p[0]), 0.0, float(p[1])]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
