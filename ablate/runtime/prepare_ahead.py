"""The study's data, prepared in a process of its own while the command starts its flow run.

``ablate run`` (and each command with the prepare step) begins the prepare step's work at once in
a separate process, where the study's data is not prepared yet, then imports Prefect and makes
its flow run; the prepare task adopts what that process did. Loading a data set from
scikit-learn imports scikit-learn (1.7 s on one core of the 2-core machine): the command's own
process, busy importing Prefect and its flows on one core, no longer waits for it.

The work is :func:`ablate.data.prepare_data`, whole: the same checks, the same files written the
same way (a folder renamed into place). Where it fails, the task prepares the data itself, in
its own process, and so raises the same error there (in its logs, its state, the command's one
line). The process ends with its work: it leaves nothing behind when the command is killed. It
ignores Ctrl-C, which the command handles; a command that ends without its prepare step stops it
(:meth:`PrepareAhead.abandon`), and the folder it was writing is removed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from ablate.data import is_prepared, prepare_data
from ablate.vocab.params import DataConfig, Params
from ablate.vocab.trial import PreparedData

# What the prepare task is called with: the data section, the study's seed, the folder (str).
Inputs = tuple[DataConfig, int, str]
Prepared = tuple[PreparedData, bool]  # what prepare_data returns: the data, whether it did work
STOP_TIMEOUT_S = 5.0  # for the process to exit once asked to stop, before it is killed


class PrepareAhead:
    """Data sets being prepared for a flow run this process is about to make (see the module)."""

    _begun: ClassVar[dict[Inputs, tuple[_Process, int]]] = {}

    @classmethod
    def begin(cls, params: Params) -> int:
        """Prepare each of the study's data sets whose folder lacks it, in one new process;
        returns how many were begun (none where all are prepared already, or where the process
        could not start: the prepare step then does the work, and says what is wrong)."""
        views = params.datasets or {"": params}  # as the study flow prepares them
        try:
            todo = [(v.data, params.study.seed, str(v.prepared_dir)) for v in views.values()]
            todo = [(data, seed, out) for data, seed, out in todo if not is_prepared(data, seed, Path(out))]
            if not todo:
                return 0
            process = _Process.start(todo)
        except Exception:  # noqa: BLE001  (an unreadable source or manifest, no process to be had)
            return 0
        for index, inputs in enumerate(todo):
            cls._begun[inputs] = (process, index)
        return len(todo)

    @classmethod
    def adopt(cls, data: DataConfig, seed: int, out_dir: str) -> Prepared | None:
        """What :meth:`begin` prepared for these inputs (waiting for it), once; None where nothing
        was begun for them, or where it failed (the caller prepares them, and says why)."""
        begun = cls._begun.pop((data, seed, str(out_dir)), None)
        if begun is None:
            return None
        process, index = begun
        results = process.results()
        return results[index] if results is not None else None

    @classmethod
    def abandon(cls) -> None:
        """Stop what was begun and not adopted: the command ends without its prepare step (the
        server could not be reached, the study is locked, an error, Ctrl-C)."""
        begun, cls._begun = cls._begun, {}
        for process, _ in begun.values():
            process.stop()


class _Process:
    """The process that prepares, and the pipe its results come back through."""

    def __init__(self, process: BaseProcess, results: Connection) -> None:
        self._process = process
        self._pipe = results
        self._results: list[Prepared | None] | None = None
        self._read = False

    @classmethod
    def start(cls, todo: list[Inputs]) -> _Process:
        # A fresh interpreter (a fork would copy the threads this process may already have),
        # daemonic: stopped, not waited for, where this process exits before it is done.
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_prepare_all, args=(todo, send), name="ablate-prepare", daemon=True)
        with _ctrl_c_ignored():  # what it starts with, and keeps: Python leaves an ignored SIGINT ignored
            process.start()
        send.close()
        return cls(process, receive)

    def results(self) -> list[Prepared | None] | None:
        """Each data set's result (None where it failed); None where the process died."""
        if not self._read:
            self._read = True
            try:
                self._results = self._pipe.recv()
            except (EOFError, OSError):
                self._results = None
            finally:
                self._pipe.close()
                self._process.join()
        return self._results

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.terminate()  # SIGTERM: an exit there, which removes its staged folder
            self._process.join(STOP_TIMEOUT_S)
        if self._process.is_alive():  # in one long native call (a big file's read): a crash's hidden folder
            self._process.kill()
        self._process.join()
        self._pipe.close()


def _prepare_all(todo: list[Inputs], results: Connection) -> None:
    """In the process: prepare each data set, send back what each gave (None where it failed)."""
    signal.signal(signal.SIGTERM, _exit)
    out: list[Prepared | None] = []
    for data, seed, out_dir in todo:
        try:
            out.append(prepare_data(data, seed, Path(out_dir)))
        except Exception:  # noqa: BLE001  (the prepare step raises it again, in place)
            out.append(None)
    with contextlib.suppress(OSError):  # the command is gone: its work is done all the same
        results.send(out)


def _exit(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
