"""A real single-node Slurm cluster (Debian's slurm-wlm and munge) for tests, on loopback ports.

`start_slurm()` runs munged, slurmctld and slurmd as child processes in the foreground, as root, with
their configuration, state, spool, logs and pid files in one temporary folder, so nothing of the
machine's own /etc/slurm or /run/munge is read or written and two clusters can coexist. What works in
a container without systemd or cgroups is measured in ../shared/STACK-NOTES.md ("A real Slurm on one
machine").
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.services._daemons import free_ports, start_daemon, stop_daemon, tail, wait_until

DAEMONS = ("munged", "slurmctld", "slurmd")
COMMANDS = ("sbatch", "squeue", "scancel", "sinfo")
PARTITION = "debug"  # the name the README's and issue's examples use


def missing_slurm() -> str | None:
    """Why a Slurm cluster cannot be started here, or None if it can."""
    missing = [name for name in DAEMONS + COMMANDS if shutil.which(name) is None]
    if missing:
        return f"Slurm needs {', '.join(missing)} (apt-get install slurm-wlm munge)"
    if os.geteuid() != 0:
        return f"Slurm's daemons run as root here (SlurmUser=root), but the tests run as uid {os.geteuid()}"
    return None


@dataclass(frozen=True)
class SlurmCluster:
    """A running cluster: its partition, and the environment Slurm's commands need to reach it."""

    folder: Path
    partition: str
    env: dict[str, str] = field(repr=False)  # SLURM_CONF, SBATCH_OUTPUT: add to os.environ for sbatch callers

    def run(self, *argv: str) -> str:
        """Run a Slurm command against this cluster; its stdout. Raises CalledProcessError on failure."""
        done = subprocess.run(
            argv, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout

    def squeue(self) -> list[str]:
        """Ids of the jobs in the queue (pending, running or completing)."""
        return self.run("squeue", "--noheader", "--format=%i").split()

    def scancel(self, job_id: str) -> None:
        self.run("scancel", job_id)

    def node_state(self) -> str:
        return self.run("sinfo", "--noheader", "--Node", "--format=%T").strip()

    def wait_empty(self, timeout: float = 30.0) -> float:
        """Wait until no job is left in the queue; the seconds waited."""
        return wait_until(lambda: not self.squeue(), timeout, f"squeue empty (still {self.squeue()})", 0.2)


def machine_resources() -> tuple[int, int]:
    """CPUs and RealMemory (MB) as slurmd itself detects them (`slurmd -C`), so the node is never drained
    for "Low RealMemory"; RealMemory must be set or dask-jobqueue's `--mem` is refused."""
    line = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=30, check=True).stdout
    found = dict(re.findall(r"(CPUs|RealMemory)=(\d+)", line))
    return int(found["CPUs"]), int(found["RealMemory"])


def write_slurm_conf(folder: Path, munge_socket: Path, cpus: int, memory_mb: int) -> Path:
    conf = folder / "slurm.conf"
    ctld_port, slurmd_port = free_ports(2)
    host = socket.gethostname().split(".")[0]  # slurmctld only starts on a host that SlurmctldHost names
    conf.write_text(
        f"""\
ClusterName=ablate-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={folder / "state"}
SlurmdSpoolDir={folder / "spool"}
SlurmctldPidFile={folder / "slurmctld.pid"}
SlurmdPidFile={folder / "slurmd.pid"}
SlurmctldLogFile={folder / "logs" / "slurmctld.log"}
SlurmdLogFile={folder / "logs" / "slurmd.log"}
# No systemd and no cgroup hierarchy in a container: track processes through /proc, bind no tasks.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
ReturnToService=2
# Trust the node line below over slurmd's own probe (a container may show other sockets or threads).
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""
    )
    return conf


def start_munge(folder: Path, stack: ExitStack) -> Path:
    """munged with its own key; every folder above its socket must be searchable by all."""
    run = folder / "munge"
    run.mkdir(mode=0o755)
    run.chmod(0o755)  # mkdir's mode is masked by the umask
    key = run / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    sock = run / "munge.socket.2"
    argv = ["munged", "--foreground", f"--socket={sock}", f"--key-file={key}", f"--pid-file={run / 'munged.pid'}",
            f"--seed-file={run / 'munged.seed'}", f"--log-file={folder / 'logs' / 'munged.log'}"]  # fmt: skip
    proc = start_daemon(argv, folder / "logs" / "munged.out")
    stack.callback(stop_daemon, proc)
    wait_until(lambda: sock.exists() or proc.poll() is not None, 10, "munged socket")
    if proc.poll() is not None:
        raise RuntimeError(f"munged exited with {proc.returncode}:\n{tail(folder / 'logs' / 'munged.out')}")
    return sock


def leftover_processes(folder: Path) -> list[psutil.Process]:
    """Processes other than this one and its children that still belong to the cluster in `folder`: its
    daemons (the folder in their command line) and anything started from a job (SLURM_CONF in their
    environment), e.g. a slurmstepd or a Dask worker that outlived its job."""
    mine = {os.getpid(), *(p.pid for p in psutil.Process().children(recursive=True))}
    left = []
    for proc in psutil.process_iter():
        if proc.pid in mine:
            continue
        try:
            if str(folder) in " ".join(proc.cmdline()) or str(folder) in proc.environ().get("SLURM_CONF", ""):
                left.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return left


def stop_cluster(cluster: SlurmCluster) -> None:
    """Cancel every job and wait for an empty queue while slurmd still runs (a slurmstepd outlives a
    stopped slurmd otherwise); the daemons are stopped afterwards by the ExitStack."""
    jobs = cluster.squeue()
    if jobs:
        cluster.run("scancel", *jobs)
    cluster.wait_empty(timeout=30)


def check_nothing_left(folder: Path, grace_s: float = 15.0) -> None:
    # A job's processes get SIGTERM from scancel and may still be shutting down (a Dask worker
    # closing its nanny takes seconds on a loaded machine): give them a bounded grace to exit.
    _, left = psutil.wait_procs(leftover_processes(folder), timeout=grace_s)
    if not left:
        return
    names = []
    for proc in left:
        with contextlib.suppress(psutil.Error):
            names.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
            proc.kill()
    raise RuntimeError(f"Slurm fixture: processes left behind after teardown (now killed): {names}")


@contextmanager
def start_slurm(timeout: float = 60.0) -> Iterator[SlurmCluster]:
    """Start a one-node Slurm cluster; on exit cancel every job, stop the daemons, leave no process."""
    why = missing_slurm()
    if why:
        raise RuntimeError(why)
    with tempfile.TemporaryDirectory(prefix="ablate-slurm-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        folder.chmod(0o755)  # munged refuses a socket under a folder that not all may search (mkdtemp: 700)
        for sub in ("state", "spool", "logs", "jobs"):
            (folder / sub).mkdir()
        stack.callback(check_nothing_left, folder)  # runs last, once the daemons are stopped
        sock = start_munge(folder, stack)
        cpus, memory_mb = machine_resources()
        conf = write_slurm_conf(folder, sock, cpus, memory_mb)
        env = {"SLURM_CONF": str(conf), "SBATCH_OUTPUT": str(folder / "jobs" / "slurm-%j.out")}
        daemon_env = {**os.environ, **env}
        procs = {}
        for argv in (["slurmctld", "-D", "-f", conf], ["slurmd", "-D", "-N", "localhost", "-f", conf]):
            name = str(argv[0])
            procs[name] = start_daemon(argv, folder / "logs" / f"{name}.out", env=daemon_env)
            stack.callback(stop_daemon, procs[name])
        cluster = SlurmCluster(folder=folder, partition=PARTITION, env=env)
        try:
            wait_until(lambda: _node_idle(cluster, procs), timeout, "Slurm node idle", 0.2)
        except (TimeoutError, RuntimeError) as e:
            logs = "\n".join(tail(folder / "logs" / f"{name}.out", 8) for name in procs)  # -D: the log, on stderr too
            raise RuntimeError(f"{e}; the daemons' output ends:\n{logs}") from None
        stack.callback(stop_cluster, cluster)  # runs first, while the daemons are still up
        yield cluster


def _node_idle(cluster: SlurmCluster, procs: dict[str, subprocess.Popen[bytes]]) -> bool:
    for name, proc in procs.items():
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
    try:
        return cluster.node_state() == "idle"
    except subprocess.CalledProcessError:
        return False  # slurmctld not answering yet
