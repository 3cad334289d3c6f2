"""A trial's steps and final metrics as DVCLive output, in ``<trial folder>/dvclive/``.

``ctx.report`` writes every step to ``history.jsonl`` (what ablate reads: resume, the report's
curves) and to DVCLive (what the DVC ecosystem reads: ``dvc plots show <trial>/dvclive/plots/metrics``,
DVC's editor extensions, DVCLive's ``metrics.json`` summary). DVCLive writes its own files; ablate
only calls its API.

No DVC experiment is saved and no dvc.yaml is written per trial: a study has hundreds of trials,
and the study's own DVC stages record them (``ablate analyze`` writes the study's curves as
``curves.csv``, which dvc.yaml declares as plots).
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import Any

from ablate.trial.devices import nvidia_driver_present

DVCLIVE_DIR = "dvclive"
# The system monitor's thread ends within one sample of being asked (DVCLive samples every 0.05 s);
# a machine under heavy load may take longer, and a trial never waits on it for more than this.
MONITOR_JOIN_S = 10.0


class TrialLive:
    """A trial's DVCLive logger, opened at its first step or at its end (a trial that fails before
    either writes none)."""

    def __init__(self, out_dir: Path, monitor_system: bool = False) -> None:
        self._dir = out_dir / DVCLIVE_DIR
        self._monitor_system = monitor_system
        self._live: Any = None

    def _open(self) -> Any:
        if self._live is None:
            # "Logging to experiment ..." at INFO for every trial says nothing here: no experiment is saved.
            logging.getLogger("dvclive").setLevel(logging.WARNING)
            if self._monitor_system:
                _gpu_only_with_a_driver()
            self._live = _files_only_live_class()(
                dir=str(self._dir),
                save_dvc_exp=False,
                dvcyaml=False,
                report=None,
                monitor_system=self._monitor_system,
            )
        return self._live

    def step(self, step: int, metrics: dict[str, float]) -> None:
        """Every metric of one ``ctx.report``, at ``step`` (a series ``plots/metrics/<name>.tsv``)."""
        live = self._open()
        live.step = step
        for name, value in metrics.items():
            live.log_metric(name, value)

    def finish(self, metrics: dict[str, float]) -> None:
        """The trial's final metrics into DVCLive's summary (``metrics.json``), then close it."""
        live = self._open()
        for name, value in metrics.items():
            live.log_metric(name, value, plot=False)
        self.close()

    def close(self) -> None:
        """Write the summary of the steps so far and stop the system monitor (a pruned or failed
        trial keeps its curve up to where it stopped)."""
        if self._live is not None:
            live, self._live = self._live, None
            live.end()


def _gpu_only_with_a_driver() -> None:
    """DVCLive's system monitor asks NVML for the GPUs whenever nvidia-ml-py is installed (DVCLive
    depends on it); on a machine without the NVIDIA driver that fails every sample, and the sample's
    CPU and memory figures are dropped with it (dvclive 3.49: nothing is logged). Where no driver
    is present, tell DVCLive there is no GPU to ask."""
    from dvclive import monitor_system

    if not nvidia_driver_present():
        monitor_system.GPU_AVAILABLE = False


@functools.cache
def _files_only_live_class() -> type:
    # Imported on first use: 0.4 s, which a worker's preload pays (ablate.runtime.worker), and a
    # driver that runs no trial never does.
    from dvclive import Live

    class FilesOnly(Live):
        """DVCLive's logger without its look at the repository around it (``Live._init_dvc``): a
        trial saves no experiment and writes no dvc.yaml, so it needs nothing from there. That look
        opens the DVC repository and git for every trial (7 ms), and fails every trial in a git
        repository without a commit yet (dvclive 3.49 asks git for HEAD before it checks for
        commits: "SCMError: Empty git repo")."""

        def _init_dvc(self) -> None:
            pass

        def monitor_system(self, *args: Any, **kwargs: Any) -> None:
            """DVCLive's system monitor, with its thread kept: DVCLive starts it and keeps no
            handle (dvclive 3.49), so ``end`` can wait for it."""
            before = set(threading.enumerate())
            super().monitor_system(*args, **kwargs)
            started = [t for t in threading.enumerate() if t not in before]
            # Python names a thread after its target ("Thread-3 (_monitoring_loop)"): threads
            # that other code of the worker started meanwhile are not waited for.
            self._monitor_threads = [t for t in started if "_monitoring_loop" in t.name]

        def post_data_to_studio(self) -> None:
            """DVCLive's post of the summary to DVC Studio, only where Studio is configured. DVCLive
            (3.49) starts a thread for it at every sync, and that thread waits on its queue for
            good, even where Studio is not configured and nothing is posted: a worker process kept
            one idle thread per trial it ran, and a no-op trial spent a tenth of its worker CPU
            there."""
            if "data" not in self._studio_events_to_skip:
                super().post_data_to_studio()

        def end(self) -> None:
            """Stop the system monitor and wait for its last samples before the summary is
            written. DVCLive only asks its thread to stop: a thread still logging after ``end``
            writes into a trial folder already published, or loses the series it had not
            reached (seen under load: the CPU's series written, the memory's not)."""
            if self._system_monitor is not None:
                self._system_monitor.end()
                for thread in getattr(self, "_monitor_threads", []):
                    thread.join(MONITOR_JOIN_S)
            super().end()

    return FilesOnly
