from __future__ import annotations

import sys

import pytest

from ablate.errors import ConfigError
from ablate.runtime.cluster import plan_cluster
from ablate.trial.devices import visible_gpus
from ablate.vocab.params import ExecutionConfig


def test_an_address_means_the_existing_scheduler() -> None:
    plan = plan_cluster(ExecutionConfig(address="tcp://127.0.0.1:8786", workers=8), "/tmp/x")
    assert (plan.kind, plan.address, plan.workers) == ("address", "tcp://127.0.0.1:8786", 8)
    assert plan.cluster_class is None and "existing Dask scheduler" in plan.describe()


def test_cpu_only_means_a_local_cluster_of_processes_with_queued_trial_threads() -> None:
    plan = plan_cluster(ExecutionConfig(workers=3, queue_ahead=1, device="cpu"), "/tmp/x")
    kw = plan.cluster_kwargs
    assert plan.kind == "local" and plan.cluster_class == "distributed.LocalCluster"
    assert (kw["n_workers"], kw["processes"], kw["threads_per_worker"]) == (3, True, 2)
    assert kw["preload"] == ["ablate.runtime.worker"] and kw["local_directory"] == "/tmp/x"
    assert int(kw["env"]["ABLATE_TORCH_THREADS"]) >= 1


def test_auto_device_falls_back_to_a_local_cluster_without_gpus() -> None:
    plan = plan_cluster(ExecutionConfig(workers=2, device="auto"), "/tmp/x")
    assert plan.kind == ("cuda" if visible_gpus() else "local")


def test_cuda_without_dask_cuda_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        plan_cluster(ExecutionConfig(device="cuda"), "/tmp/x", source="p.yaml", gpus=2, dask_cuda=False)
    assert str(info.value) == (
        "p.yaml: execution.device: cuda needs dask-cuda (pip install -e '.[gpu]'), but it is not installed "
        "(2 GPU(s) visible); install it, or set execution.device to auto to run on CPU workers"
    )


def test_cuda_without_a_visible_gpu_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^p.yaml: execution.device: cuda needs a visible CUDA GPU, but none"):
        plan_cluster(ExecutionConfig(device="cuda"), "/tmp/x", source="p.yaml", gpus=0, dask_cuda=True)


def test_auto_with_gpus_but_no_dask_cuda_warns_and_runs_cpu_workers_without_the_gpus() -> None:
    plan = plan_cluster(ExecutionConfig(device="auto", workers=3), "/tmp/x", gpus=2, dask_cuda=False)
    assert plan.kind == "local" and plan.workers == 3
    assert plan.warning == (
        "warning: 2 GPU(s) visible, but dask-cuda is not installed (pip install -e '.[gpu]'): "
        "trials run on 3 CPU worker process(es), without the GPUs"
    )
    assert plan.cluster_kwargs["env"]["CUDA_VISIBLE_DEVICES"] == ""


@pytest.mark.parametrize("device", ["auto", "cuda"])
def test_gpus_with_dask_cuda_mean_one_cuda_worker_per_gpu(device: str) -> None:
    plan = plan_cluster(ExecutionConfig(device=device, workers=3), "/tmp/x", gpus=2, dask_cuda=True)
    assert (plan.kind, plan.workers, plan.warning) == ("cuda", 2, None)


def test_cpu_ignores_visible_gpus_silently() -> None:
    plan = plan_cluster(ExecutionConfig(device="cpu"), "/tmp/x", gpus=2, dask_cuda=False)
    assert plan.kind == "local" and plan.warning is None
    assert "CUDA_VISIBLE_DEVICES" not in plan.cluster_kwargs["env"]


def test_trial_workers_have_no_thread_profiler_where_it_can_deadlock(tmp_path) -> None:
    # Dask's worker profiler samples every thread 100 times a second; on CPython before 3.12 that
    # can deadlock a worker whose threads start or end (python/cpython#106883).
    from distributed import Client

    from ablate.runtime.cluster import start_cluster

    plan = plan_cluster(ExecutionConfig(workers=1, device="cpu"), str(tmp_path))
    with start_cluster(plan) as cluster, Client(cluster) as client:
        callbacks = client.run(lambda dask_worker: sorted(dask_worker.periodic_callbacks))
        enabled = client.run(lambda: __import__("dask").config.get("distributed.worker.profile.enabled"))
        frozen = client.run(lambda: __import__("gc").get_freeze_count())
    (names,) = callbacks.values()
    # The preload's imports (pandas, the trial runner) are kept out of full garbage collections,
    # each of which would otherwise pause the trial running.
    assert list(frozen.values())[0] > 10_000, frozen
    assert list(enabled.values()) == [sys.version_info >= (3, 12)]  # the event-loop profiler too
    assert "heartbeat" in names
    assert ("profile" in names) == (sys.version_info >= (3, 12)), names


def _parent_and_variable() -> tuple[int, str, str, float]:
    import os

    import numpy as np
    import psutil

    parent = psutil.Process(os.getppid())
    return parent.pid, " ".join(parent.cmdline()), os.environ.get("ABLATE_SET_LATER", ""), np.random.random()


def test_local_workers_fork_from_one_preloaded_server_and_see_the_environment_as_it_is_now(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A LocalCluster's workers fork, as they start, from multiprocessing's forkserver, which
    # imported Dask and ablate's worker set-up once for all of them. Its environment is this
    # process's as it was when the first cluster started it; a later cluster's workers still see
    # the variables of now.
    from distributed import Client

    from ablate.runtime.cluster import FORKSERVER_PRELOAD, start_cluster

    with start_cluster(plan_cluster(ExecutionConfig(workers=1, device="cpu"), str(tmp_path))) as cluster:
        with Client(cluster) as client:
            ((first_parent, command, _, _),) = client.run(_parent_and_variable).values()
    monkeypatch.setenv("ABLATE_SET_LATER", "seen")
    with start_cluster(plan_cluster(ExecutionConfig(workers=2, device="cpu"), str(tmp_path))) as cluster:
        with Client(cluster) as client:
            facts = list(client.run(_parent_and_variable).values())
    assert "multiprocessing.forkserver" in command and all(m in command for m in FORKSERVER_PRELOAD), command
    assert {parent for parent, *_ in facts} == {first_parent}  # one forkserver for both clusters
    assert [variable for _, _, variable, _ in facts] == ["seen", "seen"]
    assert facts[0][3] != facts[1][3], facts  # numpy's global generator: see the next test
    # Only for the clusters' starts: any other cluster of this process spawns its workers.
    assert __import__("dask").config.get("distributed.worker.multiprocessing-method") == "spawn"


def _draw_in_forked_child(reseed: bool) -> float:
    import os
    import struct

    import numpy as np

    from ablate.runtime.worker import fresh_numpy_seed

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what a worker forked from the forkserver does as it starts
        if reseed:
            fresh_numpy_seed()
        os.write(write, struct.pack("d", np.random.random()))
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(write)
    (value,) = struct.unpack("d", os.read(read, 8))
    os.close(read)
    return value


def test_each_forked_worker_draws_its_own_seed_for_numpys_global_generator() -> None:
    # Forked from one process, two children draw the same numbers from numpy's global generator;
    # the worker set-up seeds it afresh in each. (numpy makes its global generator at the first use
    # of numpy.random: made in the parent here, as the forkserver's preload makes it.)
    import numpy as np

    np.random.random()
    assert _draw_in_forked_child(reseed=False) == _draw_in_forked_child(reseed=False)
    assert _draw_in_forked_child(reseed=True) != _draw_in_forked_child(reseed=True)


def test_a_cluster_begun_before_the_flow_run_is_adopted_once_for_its_plan(tmp_path) -> None:
    from distributed import Client

    from ablate.runtime.trial_cluster import TrialCluster

    plan = plan_cluster(ExecutionConfig(workers=1, device="cpu"), str(tmp_path))
    other = plan_cluster(ExecutionConfig(workers=2, device="cpu"), str(tmp_path))
    begun = TrialCluster.begin(plan)
    try:
        assert TrialCluster.adopt(other) is None  # another plan starts its own
        assert TrialCluster.adopt(plan) is begun
        assert TrialCluster.adopt(plan) is None  # taken once
        with Client(begun.address()) as client:
            assert len(client.scheduler_info()["workers"]) == 1
    finally:
        begun.close()
    begun.close()  # the command closes what the flow run closed already: nothing happens


_STARTS_A_CLUSTER = """
import sys
from ablate.runtime.cluster import plan_cluster, start_cluster
from ablate.vocab.params import ExecutionConfig

if __name__ == "__main__":
    with start_cluster(plan_cluster(ExecutionConfig(workers=1, device="cpu"), sys.argv[1])):
        pass
    print(sorted(m for m in ("pandas", "lz4") if m in sys.modules))
"""


def test_starting_a_local_cluster_imports_no_pandas_in_the_driver(tmp_path) -> None:
    # Dask's own forkserver preload imported every package it would name (numpy, pandas, lz4) in
    # the process starting the cluster: ~0.5 s of the core importing Prefect before the first trial.
    import subprocess

    script = tmp_path / "starts.py"
    script.write_text(_STARTS_A_CLUSTER)
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


_EXITS = """
import atexit, os, sys

atexit.register(lambda: print(f"{sys.argv[1]} teardown", flush=True))  # as the interpreter's own: after
from ablate.runtime.forkserver import exit_without_teardown  # noqa: E402

exit_without_teardown()  # what importing it does in the forkserver
atexit.register(lambda: print(f"{sys.argv[1]} handler", flush=True))  # a module's exit handler: before
if sys.argv[1] == "worker":  # forked from the server, as a Dask worker is
    if os.fork():
        os.wait()
    else:
        sys.argv[1] = "forked"
"""


def test_the_forkserver_exits_after_its_exit_handlers_without_tearing_down(tmp_path) -> None:
    # Whoever reads a command's output through a pipe waits for its forkserver, which holds the same
    # stdout: its teardown (Dask, DVCLive) took 0.25 s after the command had exited. A worker forked
    # from it exits as Dask has it.
    import subprocess

    script = tmp_path / "exits.py"
    script.write_text(_EXITS)
    server = subprocess.run([sys.executable, str(script), "server"], capture_output=True, text=True, timeout=60)
    assert (server.returncode, server.stdout.split("\n")) == (0, ["server handler", ""])
    worker = subprocess.run([sys.executable, str(script), "worker"], capture_output=True, text=True, timeout=60)
    assert worker.stdout.count("forked teardown") == 1, worker.stdout


def test_the_forkserver_module_changes_nothing_in_any_other_process() -> None:
    import subprocess

    code = "import ablate.runtime.forkserver; raise SystemExit(3)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 3
