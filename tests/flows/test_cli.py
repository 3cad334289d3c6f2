"""The `ablate` command as a user meets it: bad input, failing studies, a kill and a resume."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml

from ablate.config.load import load_params
from ablate.study.storage import load_study
from flows.cli import main
from tests.flows.helpers import DEFAULT_PARAMS, REPO, deep_update, quick_study, write_params

# A configuration of params/digits.yaml's space, for search.enqueue.
BASELINE = {
    "hidden_layers": 2,
    "hidden_units": 64,
    "activation": "relu",
    "dropout": 0.1,
    "batchnorm": False,
    "lr": 0.001,
    "weight_decay": 1.0e-4,
    "batch_size": 32,
}
PROGRESS = re.compile(r"^\[ *\d+/\d+\] trial ")
BAD_INPUTS = [
    # (name, how to break params/digits.yaml, the key the one-line error must name)
    ("yaml", "study: [unclosed\n", "line"),
    ("unknown-key", {"study": {"nmae": "x"}}, "study.nmae"),
    ("wrong-type", {"search": {"n_trials": "ten"}}, "search.n_trials"),
    ("sampler", {"search": {"sampler": "bayes"}}, "search.sampler"),
    (
        "sampler-cannot-serve",
        "study: {name: s}\ndata: {source: 'sklearn:digits'}\n"
        "search: {sampler: cmaes, n_trials: 4, space: {activation: [relu, tanh]}}\n",
        "search.sampler",
    ),
    (
        "grid-continuous",
        "study: {name: s}\ndata: {source: 'sklearn:digits'}\n"
        "search: {sampler: grid, n_trials: 4, space: {lr: {type: float, low: 0.001, high: 0.1}}}\n",
        "search.space.lr.step",
    ),
    ("pruner", {"search": {"pruner": "asha"}}, "search.pruner"),
    # several objectives (a constraint on a metric the trial does not return: tests/flows/test_pareto.py)
    (
        "metric-direction-lengths",
        {"study": {"metric": ["val_accuracy", "n_params"], "direction": ["maximize"]}},
        "study.direction",
    ),
    ("constraint-operator", {"study": {"constraints": ["n_params < 5000"]}}, "study.constraints[0]"),
    ("constraint-no-number", {"study": {"constraints": ["n_params <= small"]}}, "study.constraints[0]"),
    ("constraint-syntax", {"study": {"constraints": ["n_params at most 5000"]}}, "study.constraints[0]"),
    (
        "pruner-several-objectives",
        {
            "study": {"metric": ["val_accuracy", "n_params"], "direction": ["maximize", "minimize"]},
            "search": {"pruner": "median"},
        },
        "search.pruner",
    ),
    (
        "sampler-several-objectives",
        {
            "study": {"metric": ["val_accuracy", "n_params"], "direction": ["maximize", "minimize"]},
            "search": {"sampler": "cmaes"},
        },
        "search.sampler",
    ),
    ("pruner-option", {"search": {"pruner": "hyperband", "pruner_options": {"eta": 3}}}, "search.pruner_options.eta"),
    ("low-high", {"search": {"space": {"lr": {"type": "float", "low": 0.1, "high": 0.01}}}}, "search.space.lr.low"),
    (
        "log-low",
        {"search": {"space": {"weight_decay": {"type": "float", "low": 0.0, "high": 0.1, "log": True}}}},
        "search.space.weight_decay.low",
    ),
    ("n-trials", {"search": {"n_trials": 0}}, "search.n_trials"),
    ("missing-file", {"data": {"source": "missing.csv"}}, "data.source"),
    ("unknown-source", {"data": {"source": "sklearn:mnist"}}, "data.source"),
    ("target", {"data": {"source": "table.csv", "target": "label"}}, "data.target"),
    ("entrypoint", {"trial": {"entrypoint": "nosuchmodule:train"}}, "trial.entrypoint"),
    # execution.cluster: checked without starting a scheduler or submitting a job
    ("cluster-not-installed", {"execution": {"cluster": "dask_kubernetes.operator.KubeCluster"}}, "pip install"),
    ("cluster-not-a-cluster", {"execution": {"cluster": "collections.OrderedDict"}}, "execution.cluster"),
    (
        "cluster-option-rejected",
        {
            "execution": {
                "cluster": "dask_jobqueue.SLURMCluster",
                "cluster_options": {"cores": 1, "memory": "1GB", "x": 1},
            }
        },
        "Got unexpected keyword argument 'x'",
    ),
    (
        "cluster-and-address",
        {"execution": {"cluster": "dask_jobqueue.SLURMCluster", "address": "tcp://h:1"}},
        "execution.cluster",
    ),
    ("adapt-min-max", {"execution": {"adapt": {"minimum": 3, "maximum": 2}}}, "execution.adapt.minimum"),
    ("workers", {"execution": {"workers": 0}}, "execution.workers"),
    # conditional knobs (search.space.<knob>.when), search.enqueue, search.seeds
    *[
        (f"when-{name}", {"search": {"space": {"momentum": {"type": "float", "low": 0, "high": 0.9, **knob}}}}, key)
        for name, knob, key in [
            ("unknown", {"when": {"optimizer": "sgd"}}, "search.space.momentum.when.optimizer"),
            ("malformed", {"when": "optimizer == sgd"}, "search.space.momentum.when"),
            ("operator", {"when": {"hidden_layers": {"=>": 2}}}, "search.space.momentum.when.hidden_layers.=>"),
            ("never-taken", {"when": {"activation": "sigmoid"}}, "search.space.momentum.when.activation"),
            ("never-holds", {"when": {"hidden_layers": {">": 5}}}, "search.space.momentum.when.hidden_layers"),
        ]
    ],
    (
        "when-later-knob",
        "study: {name: s}\ndata: {source: 'sklearn:digits'}\nsearch: {n_trials: 4, space: {m: {type: float, "
        "low: 0, high: 1, when: {opt: sgd}}, opt: [adam, sgd]}}\n",
        "declared after it",
    ),
    (
        "grid-conditional",
        "study: {name: s}\ndata: {source: 'sklearn:digits'}\nsearch: {sampler: grid, n_trials: 2, space: "
        "{opt: [adam, sgd], m: {type: int, low: 1, high: 2, when: {opt: sgd}}}}\n",
        "search.sampler",
    ),
    ("enqueue-unknown-knob", {"search": {"enqueue": [{"lrr": 0.01}]}}, "search.enqueue[0].lrr"),
    ("enqueue-out-of-range", {"search": {"enqueue": [{**BASELINE, "lr": 0.5}]}}, "search.enqueue[0].lr"),
    ("enqueue-incomplete", {"search": {"enqueue": [{"lr": 0.001}]}}, "search.enqueue[0]: must give a value"),
    ("seeds-with-pruner", {"search": {"seeds": 3, "pruner": "median"}}, "search.seeds"),
    ("timeout", {"search": {"timeout_s": -1}}, "search.timeout_s"),
    *[
        (f"ablation-{name}", {"ablation": {"baseline": "best", **change}}, key)
        for name, change, key in [
            ("param", {"components": {"bn": {"params": {"bn": False}}}}, "ablation.components.bn.params.bn"),
            ("no-change", {"components": {"e": {"params": {"epochs": 20}}}}, "ablation.components.e.params"),
            ("pattern", {"components": {"p": {"features": ["pxl_*"]}}}, "ablation.components.p.features"),
            ("all-columns", {"components": {"p": {"features": ["pixel_*"]}}}, "ablation.components.p.features"),
            (
                "factorial",
                {
                    "policy": "factorial",
                    "components": {f"c{i}": {"features": [f"pixel_{i % 8}_{i // 8}"]} for i in range(9)},
                },
                "ablation.components",
            ),
            ("seeds", {"seeds": 0, "components": {"e": {"params": {"epochs": 3}}}}, "ablation.seeds"),
            ("alpha", {"alpha": 1.5, "components": {"e": {"params": {"epochs": 3}}}}, "ablation.alpha"),
            *[
                (name, {**change, "components": {"e": {"params": {"epochs": 3}}}}, key)
                for name, change, key in [
                    ("min-effect-zero", {"min_effect": 0}, "ablation.min_effect"),
                    ("min-effect-text", {"min_effect": "half a point"}, "ablation.min_effect"),
                    ("auto-without-min-effect", {"seeds": "auto"}, "ablation.min_effect"),
                    ("max-below-pilot", {"seeds": "auto", "min_effect": 0.01, "max_seeds": 4}, "ablation.max_seeds"),
                    ("power", {"power": 1.2, "min_effect": 0.01}, "ablation.power"),
                    ("seeds-text", {"seeds": "several"}, "ablation.seeds"),
                ]
            ],
            ("reserved", {"components": {"state": {"params": {"epochs": 3}}}}, "ablation.components.state"),
            (
                "path-same",
                {"policy": "path", "baseline": {"lr": 0.01}, "target": {"lr": 0.01}},
                "ablation.target",
            ),
        ]
    ],
]


def test_the_installed_command_exits_with_mains_code_after_every_exit_handler() -> None:
    ablate = Path(sys.executable).parent / "ablate"  # the console script pip installed
    shown = subprocess.run([ablate, "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: ablate") and not shown.stderr
    wrong = subprocess.run([ablate, "runn", "x.yaml"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "invalid choice: 'runn'" in wrong.stderr and "Traceback" not in wrong.stderr
    # A handler registered while the command runs (as Prefect registers the ones that send a run's
    # last logs and events) runs before the process exits, and what it prints reaches the pipe.
    script = (
        "import atexit, flows.cli as cli\n"
        "def work():\n"
        "    atexit.register(print, 'a late exit handler ran')\n"
        "    print('the command ran', end='')\n"
        "    return 3\n"
        "cli.main = work\n"
        "cli.command()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and done.stdout == "the command rana late exit handler ran\n", done
    # The command's handler is the first registered (it runs last) only while importing the command
    # registers none: logging and multiprocessing register theirs as they are imported.
    check = "import atexit, sys, flows.cli; print(atexit._ncallbacks(), 'logging' in sys.modules)"
    first = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert first.stdout.split() == ["0", "False"], first


@pytest.mark.parametrize(
    ("users", "levels"),
    [({}, "50 50 50"), ({"DASK_LOGGING__DISTRIBUTED": "error"}, "40 30 50")],
    ids=["quiet", "the-users-own"],
)
def test_the_command_quiets_dasks_loggers_its_client_too_unless_the_user_set_them(
    users: dict[str, str], levels: str
) -> None:
    """Dask's client logs at a level of its own (a warning such as "Couldn't gather 1 keys,
    rescheduling" reached the terminal beside the command's one error line); tornado keeps Dask's
    default (critical)."""
    script = (
        "import logging, flows.cli as cli\n"
        "cli._quiet_logs(False)\n"
        "import distributed\n"
        "print(*(logging.getLogger(n).getEffectiveLevel() for n in ('distributed', 'distributed.client', 'tornado')))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_LOGGING")} | users
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == levels, done


@pytest.mark.parametrize(("name", "change", "key"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, change, key: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "table.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    path = tmp_path / "study.yaml"
    if isinstance(change, str):
        path.write_text(change)
    else:
        raw = deep_update(yaml.safe_load(DEFAULT_PARAMS.read_text()), change)
        path.write_text(yaml.safe_dump(raw))

    code = main(["run", str(path)])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("ablate: error: ") and "Traceback" not in err
    assert str(path) in err and key in err and "but" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.yaml", "table.csv"]


def test_bad_override_names_the_set_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(DEFAULT_PARAMS), "--set", "search.n_trials=-3"]) == 2
    err = capsys.readouterr().err
    assert "--set search.n_trials=-3" in err and "must be an integer >= 1, but got -3" in err


def test_a_set_that_changes_a_study_dvc_records_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "params").mkdir()
    shutil.copy(REPO / "dvc.yaml", tmp_path / "dvc.yaml")
    shutil.copy(DEFAULT_PARAMS, tmp_path / "params" / "digits.yaml")
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)

    code = main(["run", "params/digits.yaml", "--set", "trial.options.epochs=3"])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("ablate: error: params/digits.yaml (--set trial.options.epochs=3): trial.options.epochs: ")
    assert "run `dvc exp run -S params/digits.yaml:trial.options.epochs=3` instead" in err
    assert "--set study.name=NAME for a separate study" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dvc", ".dvcignore", "dvc.yaml", "params"]


def cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", *args],
        cwd=REPO,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # As from a terminal: a test run started in the background (CI, `make test &`) inherits an
        # ignored SIGINT, which Python then keeps ignoring, and Ctrl-C would do nothing.
        preexec_fn=_default_sigint,
        **kw,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_command_exits_non_zero_when_no_trial_completes(tmp_path: Path) -> None:
    changes = deep_update(quick_study(n_trials=3), {"trial": {"entrypoint": "tests.flows.trial_fns:always_fails"}})
    proc = cli(str(write_params(tmp_path, "broken", changes)))
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("ablate: error: no trial completed: 3 of 3 trials failed"), out
    assert "Traceback" not in out
    trials = pd.read_csv(tmp_path / "reports" / "broken" / "trials.csv")
    assert trials["error"].str.contains("always_fails").all() and len(trials) == 3


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_the_prepare_step_adopts_the_data_the_command_began_preparing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One process prepares the data: the one the command began, whose result the task takes
    (the task preparing it again would be a second writer of the same folder)."""
    from ablate.runtime.prepare_ahead import PrepareAhead

    adopted: list[object] = []
    adopt = PrepareAhead.adopt

    def watched(data, seed, out_dir):  # the real adopt, its result kept for the test
        adopted.append(adopt(data, seed, out_dir))
        return adopted[-1]

    monkeypatch.setattr(PrepareAhead, "adopt", staticmethod(watched))
    path = write_params(tmp_path, "ahead", quick_study())

    assert main(["prepare", str(path)]) == 0

    assert len(adopted) == 1 and adopted[0] is not None
    prepared, worked = adopted[0]
    assert worked and prepared.path == str(load_params(str(path)).prepared_dir)
    assert not any(p.name.startswith(".") for p in (tmp_path / "data" / "prepared").iterdir())


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_data_that_cannot_be_prepared_is_one_line_from_the_prepare_step(tmp_path: Path) -> None:
    """The command begins preparing the data in a process of its own (ablate.runtime.prepare_ahead);
    where that fails, the prepare step prepares it itself and its error is the command's one line."""
    (tmp_path / "tiny.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    changes = deep_update(quick_study(), {"data": {"source": str(tmp_path / "tiny.csv"), "target": "y"}})
    proc = cli(str(write_params(tmp_path, "tiny", changes)))
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("ablate: error: ") and "cannot split 4 rows" in last, out
    assert "Traceback" not in out
    assert not (tmp_path / "data" / "prepared").exists() or not any((tmp_path / "data" / "prepared").iterdir())


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
@pytest.mark.parametrize("after_s", [1.5, 3.0])
def test_ctrl_c_to_the_process_group_as_the_run_starts_stops_it_with_one_line(tmp_path: Path, after_s: float) -> None:
    # As a terminal sends it: to every process of the command's group (its Dask workers starting, its
    # prepare process), while the command validates, imports Prefect beside the cluster's thread
    # importing distributed, or makes its flow run.
    changes = deep_update(quick_study(n_trials=8), {"trial": {"options": {"sleep": 0.5}}})
    proc = cli(str(write_params(tmp_path, "early", changes)), start_new_session=True)
    time.sleep(after_s)
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=60)

    assert proc.returncode == 128 + signal.SIGINT, out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    errors = [line for line in out.splitlines() if line.startswith("ablate: error: ")]
    assert len(errors) == 1 and errors[0].startswith("ablate: error: interrupted"), out
    deadline = time.monotonic() + 15
    while (left := _group(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, left


def _group(pgid: int) -> list[str]:
    """The command lines of the processes still in a process group."""
    left = []
    for p in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(p.pid) == pgid:
                left.append(" ".join(p.info["cmdline"] or []))
    return left


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
# Ctrl-C; `kill` (SIGTERM) is turned into the same interrupt (flows/cli.py). A SIGKILLed search
# resuming: tests/flows/test_pruning.py, test_database_storage.py and test_faults.py.
@pytest.mark.parametrize("sig", [signal.SIGINT], ids=lambda s: s.name)
def test_a_killed_run_resumes_to_exactly_n_trials_none_twice(tmp_path: Path, sig: signal.Signals) -> None:
    changes = deep_update(quick_study(n_trials=12), {"trial": {"options": {"sleep": 1.0}}})
    path = write_params(tmp_path, "resume", changes)
    study_dir = tmp_path / "data" / "studies" / "resume"

    proc = cli(str(path))
    finished = 0
    for line in proc.stdout:
        finished += bool(PROGRESS.match(line))
        if finished == 5:
            proc.send_signal(sig)
            break
    rest, _ = proc.communicate(timeout=60)
    assert finished == 5
    if sig != signal.SIGKILL:  # stopped cleanly, with a word on how to go on
        assert proc.returncode == 128 + sig and "run the same command again to resume" in rest, rest
        assert "Traceback" not in rest

    # The killed run's workers exit with it: no trial finishes behind the next run's back.
    time.sleep(2.0)
    published = sorted(study_dir.glob("trials/*/result.json"))
    time.sleep(3.0)
    assert sorted(study_dir.glob("trials/*/result.json")) == published
    complete_before = sum(t.state.name == "COMPLETE" for t in load_study(load_params(path)).trials)
    assert complete_before >= 5

    proc = cli(str(path))
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "resuming:" in out
    progress = [line for line in out.splitlines() if PROGRESS.match(line)]
    assert progress and all(" | running " in p and " | best " in p and " | ETA " in p for p in progress)
    assert "taking longer than" not in out  # no wait on a lock the killed run left behind
    assert re.search(r"^Prefect UI:  http://\S+/runs/flow-run/[0-9a-f-]{36}$", out, re.M)
    assert re.search(r"^report:      \S+/reports/resume/index.html$", out, re.M)

    trials = pd.read_csv(tmp_path / "reports" / "resume" / "trials.csv")
    assert list(trials["number"]) == list(range(12)) and set(trials["state"]) == {"COMPLETE"}
    run = json.loads((tmp_path / "reports" / "resume" / "run.json").read_text())
    assert complete_before + run["executed"] + run["recovered"] == 12
    assert run["cached"] == 0
    executions = (study_dir / "executions.log").read_text().splitlines()
    numbers = [line.split()[0] for line in executions]
    assert sorted(numbers, key=int) == [str(n) for n in range(12)]  # each trial finished exactly once


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_second_run_of_the_same_study_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    changes = deep_update(quick_study(n_trials=4), {"trial": {"options": {"sleep": 2.0}}})
    path = write_params(tmp_path, "busy", changes)
    first = cli(str(path))
    for line in first.stdout:  # wait until it searches (it holds the study lock by then)
        if line.startswith("search:"):
            break
    second = cli(str(path))
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 2, out
    # One line, before a server is asked for or a flow run starts.
    assert out.count("\n") == 1 and out.startswith("ablate: error: "), out
    assert f"{tmp_path / 'data' / 'studies' / 'busy'}: the study is being run by pid " in out
    first.communicate(timeout=300)
    assert first.returncode == 0
    trials = pd.read_csv(tmp_path / "reports" / "busy" / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE"] * 4


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_users_own_trial_module_next_to_their_params_works_unchanged(tmp_path: Path) -> None:
    (tmp_path / "mytrial.py").write_text(
        "import math\n\n"
        "def train(params, ctx):\n"
        "    X, y, Xv, yv = ctx.load_data()\n"
        "    ctx.report(1, {'score': 0.5})\n"
        "    (ctx.out_dir / 'weights.txt').write_text(str(params['c']))\n"
        "    return {'score': 1 - abs(math.log10(params['c'])), 'n_train': float(len(X))}\n"
    )
    (tmp_path / "study.yaml").write_text(
        "study: {name: mine, metric: score}\n"
        "data: {source: sklearn:breast_cancer}\n"
        "trial: {entrypoint: 'mytrial:train'}\n"
        "search: {sampler: random, n_trials: 3, space: {c: {type: float, low: 0.01, high: 100, log: true}}}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "study.yaml"],
        cwd=tmp_path,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    trials = pd.read_csv(tmp_path / "reports" / "mine" / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE"] * 3
    assert (trials["n_train"] == 364).all()  # 569 rows: 20 % test, then 20 % of the rest for val
    assert (tmp_path / "data" / "studies" / "mine" / "trials" / "0" / "weights.txt").exists()
