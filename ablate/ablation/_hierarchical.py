"""The child process of :func:`ablate.ablation.across.hierarchical_probs`: baycomp's hierarchical
test for each arm, read as JSON from stdin, its probabilities written as JSON to stdout.

With ``--build``, the child of :func:`build_model_meanwhile`: Stan's model compiled into httpstan's
cache, at the lowest CPU priority, unless it is there already. Light to import (numpy and the
standard library), for the processes that only start that build."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import subprocess
import sys
import tempfile
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


def build_model_meanwhile() -> subprocess.Popen[bytes]:
    """Start compiling the hierarchical test's Stan model (about a minute of a CPU, once per Python
    environment) in a process of its own, at the lowest priority: while an ablation's trials run,
    it takes only a CPU they leave idle, and the analysis after them finds it built, or waits for
    the rest of the build (:func:`ablate.ablation.across.hierarchical_probs` takes the build's lock). It exits at once
    when the model is built.

    Left to end on its own when the run ends first: killed, it could stop between the module it
    writes into httpstan's cache and the compiler log beside it, which later calls need."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ablate.ablation._hierarchical", "--build"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(),
        start_new_session=True,  # not stopped by the run's Ctrl-C
    )
    _builds.append(proc)  # a reference, so no ResourceWarning says it still runs
    return proc


_builds: list[subprocess.Popen[bytes]] = []


def child_env() -> dict[str, str]:
    """This process's environment, with the folder that holds the ``ablate`` package first on
    PYTHONPATH: what a child process of this module runs with."""
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}


def model_built() -> bool:
    """Whether httpstan's cache holds baycomp's hierarchical model, compiled for this Python (where
    httpstan's own check looks: a module file in the model's folder)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from httpstan.cache import model_directory
    from httpstan.models import calculate_model_name

    spec = importlib.util.find_spec("baycomp")
    assert spec is not None and spec.origin is not None
    code = (Path(spec.origin).parent / "hierarchical-t-test.stan").read_text()
    folder = model_directory(calculate_model_name(code))
    return folder.is_dir() and any(p.suffix in EXTENSION_SUFFIXES for p in folder.iterdir())


def build() -> None:
    """Compile the model (a fit of a few draws on made-up differences) unless it is built: at the
    lowest priority, so that it takes only a CPU the run leaves idle."""
    os.nice(19)
    if model_built():
        return
    from baycomp import HierarchicalTest
    from filelock import FileLock

    logging.getLogger("httpstan").setLevel(logging.ERROR)
    lock = build_lock_path()
    lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock), tempfile.TemporaryDirectory(prefix="ablate-stan-build-") as folder:
        if model_built():  # another process built it while this one waited
            return
        os.chdir(folder)  # baycomp writes its last sample, and the compiler its objects, here
        rng = np.random.default_rng(0)
        x = rng.normal(size=(2, 3))
        with contextlib.redirect_stdout(sys.stderr):
            HierarchicalTest.probs(x, x + rng.normal(size=(2, 3)), 0.1, nsamples=10, random_state=0)


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
    build() if sys.argv[1:] == ["--build"] else main()
