"""The ``ablate`` command: ``ablate run PARAMS [--set KEY=VALUE ...]``.

Input is validated before anything is written or any server started: a bad params file, data
file or entrypoint gives one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from ablate.config import Params, load_params
from ablate.data import check_source
from ablate.errors import AblateError, ConfigError
from ablate.trial import check_entrypoint

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # A user's trial module next to their params must import as it would with `python -m`.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        params = validate(args.params, args.set)
    except ConfigError as err:
        return _fail(str(err), EXIT_BAD_INPUT)
    try:
        return args.func(params, args)
    except AblateError as err:
        return _fail(str(err), EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail("interrupted; run the same command again to resume the study", 130)


def validate(path: str, overrides: list[str]) -> Params:
    """Parse the params file and check what it points at (data file, target, trial code)."""
    params = load_params(path, overrides)
    check_source(params.data, params.source)
    check_entrypoint(params.trial.entrypoint, params.source)
    return params


def cmd_run(params: Params, args: argparse.Namespace) -> int:
    from flows.server import ensure_api, ui_url

    api = ensure_api()
    _quiet_prefect(args.verbose)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from flows.pipeline import study_flow

    state = study_flow(params, return_state=True)
    run_id = state.state_details.flow_run_id
    summary = state.result(raise_on_failure=False)
    print(f"Prefect UI:  {ui_url(api)}/runs/flow-run/{run_id}")
    if isinstance(summary, BaseException):
        if isinstance(summary, AblateError):
            raise summary
        raise AblateError(f"the study flow failed: {type(summary).__name__}: {summary}")
    best = summary.get("best") or {}
    print(
        f"study {params.study.name}: {summary['complete']} complete, {summary['failed']} failed, "
        f"{summary['pruned']} pruned; this run executed {summary['executed']}, cached {summary['cached']} "
        f"in {summary['wall_s']:.1f} s"
    )
    if best:
        print(f"best:        trial {best['number']} {best['metric']}={best['value']:.4f}")
    print(f"report:      {summary['report']['html']}")
    return 0


def _quiet_prefect(verbose: bool) -> None:
    """The terminal shows ablate's progress lines; Prefect's run logs (and the tracebacks of
    failed trials) go to the Prefect API and UI, and each trial's own log to its folder."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")


def _fail(message: str, code: int) -> int:
    print(f"ablate: error: {message}", file=sys.stderr)
    return code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ablate", description="Reproducible ablation studies and HPO.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a study end to end: prepare, search, analyze")
    run.add_argument("params", help="the study's params file, e.g. params/digits.yaml")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key of the params file, e.g. --set search.n_trials=12",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="also print Prefect's and Dask's logs")
    run.set_defaults(func=cmd_run)
    return p


if __name__ == "__main__":
    raise SystemExit(main())
