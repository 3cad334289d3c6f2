"""The ``ablate`` command.

    ablate run PARAMS [--set KEY=VALUE ...] [--restart]   prepare -> search -> ablation -> sync -> analyze
    ablate prepare|search|ablation|analyze PARAMS         one step (what the dvc.yaml stages run)
    ablate report PARAMS                                  re-render the report only (= analyze)
    ablate rerun PARAMS TRIAL                             run one recorded trial again and compare
    ablate status PARAMS [--json]                         where the study stands (runs nothing)

``--restart`` (run, search): a study whose inputs changed is set aside and started afresh.

Input is validated before anything is written or any server started: a bad params file, data
file or entrypoint gives one line on stderr and exit code 2. So does a study whose inputs changed
since its trials were computed (found once the data are prepared, before any trial runs).
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any, NoReturn

from ablate._exit import exit_now as quick_exit
from ablate._signals import signals_held
from ablate.errors import AblateError, ConfigError, StudyLockedError
from ablate.vocab.steps import STEPS

if TYPE_CHECKING:
    from ablate.report.outcome import StudyOutcome
    from ablate.vocab.params import Params

# Each command imports what it needs where it needs it: `ablate --help` pays for none of it, and
# `ablate status` (pandas, Optuna and DVC to read the study) not for Prefect and Dask.

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
STEP_COMMANDS = {
    "run": (STEPS, f"run a study end to end: {', '.join(STEPS)}"),
    "prepare": (("prepare",), "the prepare step: load, split and standardize the data"),
    "search": (("search",), "the search step: run the trials the study lacks"),
    "ablation": (("ablation",), "the ablation step: run the arms x seeds the ablation lacks"),
    "analyze": (("analyze",), "the analyze step: render the report from the study"),
    "report": (("analyze",), "re-render the report from the study (runs no trial)"),
}


def command() -> NoReturn:
    """The ``ablate`` command: :func:`main`, then an exit that skips the interpreter's teardown.

    Once every exit handler has run (Prefect's, which send the run's last logs and events to
    its server, and those of multiprocessing, logging and weakref.finalize, all registered
    later, so run earlier), the process exits without freeing its heap object by object: 0.85 s
    of a 40-trial search's command on 2 cores (Prefect, Optuna, pandas, matplotlib and the
    study's figures), for memory the OS takes back at once. Results are written by then."""
    code = 1  # where main raises (its traceback is printed first)

    def exit_now() -> None:
        quick_exit(code)

    # Registered first, so it runs last: nothing registers one before (flows.cli imports neither
    # logging nor multiprocessing; a test holds it).
    atexit.register(exit_now)
    try:
        code = main()
    except SystemExit as done:  # argparse's --help and usage errors
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
        raise
    except KeyboardInterrupt:  # before main's own handling (parsing, validating): nothing written yet
        code = _fail("interrupted", 128 + signal.SIGINT)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """The ``ablate`` command's work, callable in a process that goes on (a test, a notebook)."""
    args = _parser().parse_args(argv)
    # A user's trial module next to their params must import as it would with `python -m`.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        params = args.validate(args.params, args.set)
        if args.command == "run":  # the command that records the study with DVC
            from ablate.runtime.overrides import check_overrides_recorded

            check_overrides_recorded(params, args.set)
    except ConfigError as err:
        return _fail(str(err), EXIT_BAD_INPUT)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops a run as Ctrl-C does
    try:
        return args.func(params, args)
    except (ConfigError, StudyLockedError) as err:  # found by a step (inputs changed), or a run already on
        return _fail(str(err), EXIT_BAD_INPUT)
    except AblateError as err:
        return _fail(str(err), EXIT_FAILED)
    except KeyboardInterrupt as err:
        code = 128 + (signal.SIGTERM if isinstance(err, _Terminated) else signal.SIGINT)
        return _fail("interrupted; run the same command again to resume the study", code)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the run stops cleanly and can be resumed."""


def _interrupt(signum: int, frame: object) -> None:
    raise _Terminated


def validate(path: str, overrides: list[str]) -> Params:
    """Parse the params file and check what it points at (data file, target, trial code)."""
    from ablate.config.ablation import check_features
    from ablate.data import check_source, source_columns
    from ablate.runtime.cluster_class import check_cluster
    from ablate.trial.entrypoint import check_entrypoint

    params = validate_for_status(path, overrides)
    for name, view in (params.datasets or {"": params}).items():
        check_source(view.data, params.source, f"data.sources.{name}" if name else "data.source")
        if params.ablation is not None and any(c.features for c in params.ablation.components):
            check_features(params.ablation, source_columns(view.data), params.source, name)
    check_entrypoint(params.trial.entrypoint, params.source)
    check_cluster(params.execution, params.trial.entrypoint.partition(":")[0], params.source)
    if params.ablation is not None and params.ablation.retune is not None and params.search is not None:
        from ablate.ablation.retune import check_arms  # pandas (0.4 s), which a search needs only for its report

        check_arms(params)  # each arm has knobs left to re-tune, and a sampler that serves them
    return params


def validate_for_status(path: str, overrides: list[str]) -> Params:
    """Only the params file and the database: the status of a study whose data file has since
    moved is still worth reading."""
    from ablate.config.load import load_params
    from ablate.study.storage import check_database

    params = load_params(path, overrides)
    check_database(params)
    return params


def cmd_steps(params: Params, args: argparse.Namespace) -> int:
    from ablate.study.storage import one_storage_per_run

    with one_storage_per_run():  # the command reads the study before the flow run, and the flow again
        return _run_steps(params, args)


def _run_steps(params: Params, args: argparse.Namespace) -> int:
    from ablate.study.lock import StudyLock, lock_holder
    from flows.server import ensure_api, ui_url, watch_api

    holder = lock_holder(params.study_dir)
    if holder is not None:  # before a server or a flow run: a second run of a running study is refused
        StudyLock(params.study_dir).refuse(holder)
    if args.command == "run" and not args.restart and _finished(params):
        return 0

    steps = STEP_COMMANDS[args.command][0]
    _quiet_logs(args.verbose)  # before a cluster starts: its processes take this environment
    start = time.monotonic()
    from ablate.runtime.prepare_ahead import PrepareAhead

    if "prepare" in steps:  # in a process of its own, while this one imports Prefect and makes the flow run
        PrepareAhead.begin(params)
    cluster = _begin_cluster(params, steps)
    try:
        api = ensure_api()
        # Held while the cluster's thread imports too (distributed): a KeyboardInterrupt raised
        # inside Python's import machinery can leave a module's import lock held, and that thread
        # then waits on it for good, and the command, closing the cluster, on that thread (seen
        # once: Ctrl-C 2-4 s into `ablate run`, the command hung).
        with signals_held():
            from flows.pipeline import study_flow, without_heartbeats

        # The flow's own return value, or what it raised, as the engine holds them in memory: the
        # state a flow run returns loses its data where the server rejects a repeated proposal of
        # the final state (a request retried while its SQLite database was locked) and answers
        # with its own copy, and state.result() then raised MissingResult. A hook keeps the id.
        flow_runs: list[Any] = []

        def keep_id(flow: Any, flow_run: Any, state: Any) -> None:
            flow_runs.append(flow_run.id)

        hooks: list[Any] = [keep_id]  # Prefect types a hook by the flow's signature
        run_study = study_flow.with_options(on_completion=hooks, on_failure=hooks, on_crashed=hooks)
        watching = watch_api(api, _stop_without_api)
        summary: StudyOutcome | Exception
        try:
            with without_heartbeats():
                summary = run_study(params, steps, restart=getattr(args, "restart", False))
        except Exception as exc:  # noqa: BLE001 - said below in one line, as every failure
            summary = exc
        finally:
            watching.set()
    finally:
        if cluster is not None:
            cluster.close()  # a no-op where the flow run took it over (and closed it)
        PrepareAhead.abandon()  # what the flow run did not adopt: it ended before its prepare step
    if flow_runs:
        print(f"Prefect UI:  {ui_url(api)}/runs/flow-run/{flow_runs[-1]}")
    if isinstance(summary, BaseException):
        if isinstance(summary, AblateError):
            raise summary
        raise AblateError(f"the study flow failed: {_describe_failure(summary)}")
    if "analyze" in steps:
        _print_summary(params, summary, searched="search" in steps, elapsed_s=time.monotonic() - start)
    return 0


def _begin_cluster(params: Params, steps: tuple[str, ...]) -> Any:
    """Start the Dask cluster of a search with trials to run now, before Prefect is imported and
    the flow run made (about 2 s, on one core): its workers start on the other cores meanwhile,
    and the flow run takes it over. None where no search runs."""
    from ablate.study.storage import needs_trials

    if "search" not in steps or params.search is None or not needs_trials(params):
        return None
    from ablate.runtime.trial_cluster import TrialCluster, study_cluster_plan

    plan = study_cluster_plan(params)
    if plan.kind == "address":
        return None
    if plan.warning:
        print(plan.warning, flush=True)
    return TrialCluster.begin(plan, report=lambda line: print(line, flush=True))


def _finished(params: Params) -> bool:
    """A finished study, reported and recorded, is said so without a flow run (which would do
    nothing, in 3-5 s): what the last run found stays in its run.json and the Prefect UI."""
    if not (params.report_dir / "run.json").is_file():  # never reported: ablate.status imports pandas (0.4 s)
        return False
    from ablate.status import nothing_to_run

    finished = nothing_to_run(params)
    if finished is None:
        return False
    reason, study = finished
    print(reason)
    if study.best is not None:
        print(f"best:        trial {study.best.number} {study.best.metric}={study.best.value:.4f}")
    print(f"report:      {params.report_dir / 'index.html'}")
    return True


def _describe_failure(err: BaseException) -> str:
    """One line for an unexpected failure; an I/O error anywhere in its chain says which path
    (a library may re-raise it as something vaguer: Optuna's journal lock as "did not possess lock")."""
    cause = _os_error_in(err)
    if cause is None:
        return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return (
        f"{cause.filename2 or cause.filename}: {cause.strerror or cause} ({type(cause).__name__}); "
        "once it can be written, run the same command again to resume"
    )


def _os_error_in(err: BaseException) -> OSError | None:
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:  # a chain can loop back on itself
        if isinstance(cause, OSError) and cause.filename:
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def _stop_without_api(reason: str) -> None:
    """The run cannot go on without its Prefect server, and unwinding would wait for minutes on
    Prefect's client retrying it; so stop at once, as a kill would. That loses nothing: trial
    results and the journal are written atomically, a killed run resumes, and the next run
    repairs DVC's state (tests/flows/test_faults.py kills runs at each of these points)."""
    sys.stdout.flush()
    _fail(f"{reason}; finished trials are kept: once a server answers, run the same command to resume", EXIT_FAILED)
    quick_exit(EXIT_FAILED)


def _print_summary(params: Params, outcome: StudyOutcome, searched: bool, elapsed_s: float) -> None:
    run, study, report = outcome.run, outcome.study, outcome.report
    assert study is not None and report is not None  # the run ended with its report
    if params.search is not None:
        counts = f"study {params.study.name}: {study.complete} complete, {study.failed} failed, {study.pruned} pruned"
        if searched:
            search = run.search
            loop = f"; the search loop {search.wall_s:.1f} s" if search.wall_s is not None else ""
            print(
                f"{counts}; this run executed {search.executed}, cached {search.cached} in {run.wall_s or 0.0:.1f} s "
                f"(prepare to report{loop})"
            )
            if search.timed_out:
                print(f"budget:      stopped on search.timeout_s; run again to continue to {study.n_trials} trials")
        else:
            # This command's own time: the summary's wall time is the reported run's (run.json).
            print(f"{counts}; report rebuilt from the study in {elapsed_s:.1f} s (no trial run)")
        if study.best is not None:
            print(f"best:        trial {study.best.number} {study.best.metric}={study.best.value:.4f}")
        if study.front:
            from ablate.study.table import describe_front

            print(f"front:       {describe_front(study.front)} ({report.pareto_csv})")
    if study.ablation_summary:
        print(f"ablation:    {study.ablation_summary}")
    if run.sync is not None:
        print(f"dvc:         {run.sync.describe()}")
    print(f"report:      {report.html}")


def cmd_status(params: Params, args: argparse.Namespace) -> int:
    """Read-only, beside a run or without one; imports neither Prefect nor Dask."""
    import json

    from ablate.status import describe_status, study_status

    status = study_status(params)
    if args.json:
        print(json.dumps(status.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        print("\n".join(describe_status(status)))
    return 0


def cmd_rerun(params: Params, args: argparse.Namespace) -> int:
    from ablate.study.rerun import describe, rerun_trial

    result = rerun_trial(params, args.trial, args.seed)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    verdict = "reproduced exactly" if result.identical else "did NOT reproduce"
    which = f"trial {args.trial}" + (f" (seed {args.seed})" if args.seed is not None else "")
    print(f"{which} of study {params.study.name} {verdict}:\n{describe(result)}")
    return 0 if result.identical else EXIT_FAILED


# Dask's loggers as the command sets them (DASK_LOGGING: a mapping of logger to level, as Dask reads
# it from the environment; its defaults for the others, e.g. tornado's, stay).
DASK_QUIET = {"distributed": "critical", "distributed.client": "critical"}


def _quiet_logs(verbose: bool) -> None:
    """The terminal shows ablate's progress lines; Prefect's run logs (and the tracebacks of
    failed trials) go to the Prefect API and UI, and each trial's own log to its folder."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        # Prefect's own machinery logs to stderr through a handler of its own, e.g. "Service
        # 'EventsWorker' failed ..." when the server goes away: ablate then says so in one line.
        os.environ.setdefault("PREFECT_INTERNAL_LOGGING_LEVEL", "CRITICAL")
        # Dask's own errors are about its machinery, e.g. a worker's heartbeat failing while the
        # cluster closes after a refusal (seen under load): a trial's failure is ablate's to say.
        # Its client logs at a level of its own (warning), e.g. "Couldn't gather 1 keys,
        # rescheduling" where a worker went away under a run that fails: named too. Where the user
        # set any of Dask's logging, it is theirs.
        if not any(name == "DASK_LOGGING" or name.startswith("DASK_LOGGING__") for name in os.environ):
            os.environ["DASK_LOGGING"] = repr(DASK_QUIET)
        # A run stopped without its server (_stop_without_api) leaves the Dask cluster's semaphores
        # to multiprocessing's resource tracker, which frees them, and would warn that it does.
        # The tracker, started with the cluster, reads its warning filters from the environment.
        ignore = "ignore:resource_tracker:UserWarning"
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, (os.environ.get("PYTHONWARNINGS"), ignore)))
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.WARNING)


def _fail(message: str, code: int) -> int:
    print(f"ablate: error: {message}", file=sys.stderr)
    return code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ablate", description="Reproducible ablation studies and HPO.")
    p.set_defaults(validate=validate)
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("params", help="the study's params file, e.g. params/digits.yaml")
    common.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key of the params file, e.g. --set search.n_trials=12",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="also print Prefect's and Dask's logs")
    for name, (steps, help_text) in STEP_COMMANDS.items():
        step = sub.add_parser(name, parents=[common], help=help_text)
        step.set_defaults(func=cmd_steps)
        if "search" in steps:
            step.add_argument(
                "--restart",
                action="store_true",
                help="if the study's inputs changed since its trials ran, keep the old study as "
                "data/studies/<name>.<UTC time> and start afresh",
            )
    rerun = sub.add_parser("rerun", parents=[common], help="run one recorded trial again and compare its metrics")
    rerun.add_argument("trial", type=int, help="the trial's number")
    rerun.add_argument("--seed", type=int, help="with search.seeds > 1: which of the trial's runs")
    rerun.set_defaults(func=cmd_rerun)
    status = sub.add_parser(
        "status",
        parents=[common],
        help="where the study stands: trials by state, best, last run, fingerprint, DVC (runs nothing)",
    )
    status.add_argument("--json", action="store_true", help="print it as JSON, for scripts")
    status.set_defaults(func=cmd_status, validate=validate_for_status)
    return p


if __name__ == "__main__":
    command()
