"""The child process of :func:`ablate.ablation.across.hierarchical_probs`: baycomp's hierarchical
test for each arm, read as JSON from stdin, its probabilities written as JSON to stdout.

With ``--build``, the child of :func:`build_model_meanwhile`: Stan's model compiled into httpstan's
cache, at a low CPU priority, unless it is there already. Light to import (numpy and the
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
    executable and httpstan version) in a process of its own, at a low priority (nice 10): while
    an ablation's trials run, it takes little of the CPU they use, and the analysis after them
    finds it built, or waits for the rest of the build (the analysis' first Stan call takes the
    build's lock). It exits at once when the model is built.

    Left to end on its own when the run ends first. Killed (a container torn down), it may leave a
    model half-written; the next build or analysis finds it so, removes it and compiles again."""
    _builds[:] = [p for p in _builds if p.poll() is None]  # the ended ones reaped
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
BUILD_NICE = 10


def child_env() -> dict[str, str]:
    """This process's environment, with the folder that holds the ``ablate`` package first on
    PYTHONPATH: what a child process of this module runs with."""
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}


def _model_name() -> str:
    from httpstan.models import calculate_model_name

    spec = importlib.util.find_spec("baycomp")
    assert spec is not None and spec.origin is not None
    return calculate_model_name((Path(spec.origin).parent / "hierarchical-t-test.stan").read_text())


def model_built() -> bool:
    """Whether httpstan's cache holds baycomp's hierarchical model whole, compiled for this Python:
    the module file httpstan looks for, and its compiler log, which httpstan writes last and
    reads on every later call."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from httpstan.cache import model_directory

    folder = model_directory(_model_name())
    try:
        module = any(p.suffix in EXTENSION_SUFFIXES for p in folder.iterdir())
    except FileNotFoundError:  # not built, or being removed by another process's httpstan
        return False
    return module and (folder / "stderr.log").is_file()


def whole_model() -> bool:
    """Under the build's lock: True when the model is built whole; else False, with what a build
    killed after it wrote the module and before the log left removed (httpstan would find the
    module and fail on the log forever)."""
    from httpstan.cache import delete_model_directory

    if model_built():
        return True
    delete_model_directory(_model_name())
    return False


def build() -> None:
    """Compile the model (a fit of a few draws on made-up differences) unless it is built."""
    os.nice(BUILD_NICE)
    if model_built():
        return
    from baycomp import HierarchicalTest
    from filelock import FileLock

    logging.getLogger("httpstan").setLevel(logging.ERROR)
    lock = build_lock_path()
    lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock), tempfile.TemporaryDirectory(prefix="ablate-stan-build-") as folder:
        if whole_model():  # another process built it while this one waited
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
            if i == 0:
                whole_model()
            p = HierarchicalTest.probs(np.array(x), np.array(y), rope, nsamples=SAMPLES_PER_CHAIN, random_state=seed)
        out[arm] = [float(p[0]), float(p[1]), float(p[2])] if rope > 0 else [float(p[0]), 0.0, float(p[1])]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    build() if sys.argv[1:] == ["--build"] else main()
