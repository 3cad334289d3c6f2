"""Unit tests for ablate.study.fingerprint: what a study was computed from, and refusing to mix inputs."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ablate.errors import StudyChangedError
from ablate.study.fingerprint import (
    FINGERPRINT,
    build_fingerprint,
    check_study,
    fingerprint_changes,
    guard_study,
    read_fingerprint,
)
from ablate.trial.entrypoint import code_version
from ablate.vocab.params import Params
from tests.ablate.study.test_session import DATA, StudySession, make_params, run_loop

HASH_A, HASH_B = "3f2a" + "0" * 60, "91bc" + "1" * 60
NOW = datetime(2026, 11, 24, 9, 30, 5, tzinfo=timezone.utc)


def fingerprint(params: Params, data_hash: str = HASH_A) -> dict:
    return build_fingerprint(params, data_hash, "c0de" * 4)


def test_the_fingerprint_names_each_input_and_is_stored_as_json(tmp_path: Path) -> None:
    fp = fingerprint(make_params(tmp_path))
    assert list(fp) == [
        "data hash",
        "trial code version",
        "trial.entrypoint",
        "trial.options",
        "search.space",
        "study.metric",
        "study.direction",
        "search.sampler",
        "study.seed",
    ]
    assert fp["trial.options"] == {"epochs": 20}
    assert fp["search.space"]["lr"] == {"type": "float", "low": 0.0001, "high": 0.03, "log": True}
    assert json.loads(json.dumps(fp)) == fp


def test_budget_cluster_report_and_paths_are_not_inputs(tmp_path: Path) -> None:
    base = make_params(tmp_path)
    other = make_params(
        tmp_path / "elsewhere",
        n_trials=99,
        overrides=("execution.workers=7", "execution.retries=0", "report.top_trials=3"),
    )
    assert fingerprint(other) == fingerprint(base)


def test_enqueue_and_timeout_are_not_inputs_but_seeds_are(tmp_path: Path) -> None:
    base = make_params(tmp_path)
    baseline = "{hidden_layers: 2, hidden_units: 64, activation: relu, dropout: 0.1, batchnorm: false, lr: 0.001, "
    baseline += "weight_decay: 0.0001, batch_size: 32}"
    other = make_params(tmp_path, overrides=(f"search.enqueue=[{baseline}]", "search.timeout_s=60"))
    assert fingerprint(other) == fingerprint(base)
    assert "search.seeds" not in fingerprint(make_params(tmp_path, overrides=("search.seeds=1",)))
    seeded = fingerprint(make_params(tmp_path, overrides=("search.seeds=3",)))
    assert fingerprint_changes(fingerprint(base), seeded) == ["search.seeds: unset → 3"]


def test_a_knob_s_condition_is_part_of_the_space(tmp_path: Path) -> None:
    momentum = "search.space.momentum={type: float, low: 0.5, high: 0.99, when: {batch_size: %s}}"
    small = fingerprint(make_params(tmp_path, overrides=(momentum % "32",)))
    assert small["search.space"]["momentum"]["when"] == {"batch_size": {"==": 32}}
    assert fingerprint_changes(small, fingerprint(make_params(tmp_path, overrides=(momentum % "[32, 64]",)))) == [
        "search.space.momentum.when.batch_size.in: unset → [32, 64]",
        "search.space.momentum.when.batch_size.==: 32 → unset",
    ]
    unconditional = fingerprint(
        make_params(tmp_path, overrides=("search.space.momentum={type: float, low: 0.5, high: 0.99}",))
    )
    assert fingerprint_changes(small, unconditional) == [
        'search.space.momentum.when: {"batch_size": {"==": 32}} → unset'
    ]


def test_a_knob_written_as_shorthand_or_in_full_is_the_same_input(tmp_path: Path) -> None:
    short = make_params(tmp_path, overrides=("search.space.activation=[relu, tanh, gelu]",))
    full = make_params(
        tmp_path, overrides=("search.space.activation={type: categorical, choices: [relu, tanh, gelu]}",)
    )
    assert fingerprint(short) == fingerprint(full)


def test_changes_name_the_key_with_its_old_and_new_value(tmp_path: Path) -> None:
    old = fingerprint(make_params(tmp_path))
    changed = make_params(
        tmp_path, overrides=("trial.options.epochs=3", "search.space.lr.high=0.1", "search.space.momentum=[0.9]")
    )
    assert fingerprint_changes(old, fingerprint(changed, HASH_B)) == [
        "data hash: 3f2a… → 91bc…",
        "trial.options.epochs: 20 → 3",
        "search.space.lr.high: 0.03 → 0.1",
        'search.space.momentum: unset → {"choices": [0.9], "type": "categorical"}',
    ]
    assert fingerprint_changes(old, old) == []


def test_a_new_study_records_its_fingerprint(tmp_path: Path) -> None:
    params = make_params(tmp_path)
    assert check_study(params, fingerprint(params), n_trials=0) == []
    assert read_fingerprint(params.study_dir) == fingerprint(params)
    # Before its first trial, a study may still change: it has computed nothing.
    assert check_study(params, fingerprint(params, HASH_B), n_trials=0) == []
    assert read_fingerprint(params.study_dir)["data hash"] == HASH_B


def test_changed_inputs_are_refused_in_one_line_naming_the_ways_forward(tmp_path: Path) -> None:
    params = make_params(tmp_path)
    check_study(params, fingerprint(params), n_trials=0)
    changed = make_params(tmp_path, overrides=("trial.options.epochs=3",))
    with pytest.raises(StudyChangedError) as info:
        check_study(changed, fingerprint(changed, HASH_B), n_trials=4)
    assert str(info.value) == (
        f"{params.source}: study unit: must keep the inputs its 4 trial(s) were computed from, but got "
        "data hash: 3f2a… → 91bc…; trial.options.epochs: 20 → 3; use another study.name "
        "(e.g. --set study.name=unit-2), or --restart to keep the old study as "
        f"{params.study_dir}.<UTC time> and start afresh"
    )
    assert read_fingerprint(params.study_dir) == fingerprint(params)  # untouched
    assert check_study(params, fingerprint(params), n_trials=4) == []  # unchanged inputs go on


def test_restart_keeps_the_old_study_and_report_beside_the_new(tmp_path: Path) -> None:
    params = make_params(tmp_path)
    check_study(params, fingerprint(params), n_trials=0)
    (params.study_dir / "optuna.journal").write_text("old trials\n")
    params.report_dir.mkdir(parents=True)
    (params.report_dir / "trials.csv").write_text("number\n0\n")

    notes = check_study(params, fingerprint(params, HASH_B), n_trials=1, restart=True, now=NOW)

    kept_study = params.study_dir.with_name("unit.20261124T093005Z")
    kept_report = params.report_dir.with_name("unit.20261124T093005Z")
    assert notes == [f"restart: study unit changed (data hash: 3f2a… → 91bc…); kept as {kept_study} and {kept_report}"]
    assert (kept_study / "optuna.journal").read_text() == "old trials\n"
    assert read_fingerprint(kept_study)["data hash"] == HASH_A
    assert (kept_report / "trials.csv").exists() and not params.report_dir.exists()
    assert sorted(p.name for p in params.study_dir.iterdir()) == [FINGERPRINT]
    assert read_fingerprint(params.study_dir)["data hash"] == HASH_B


def test_restart_of_an_unchanged_study_goes_on(tmp_path: Path) -> None:
    params = make_params(tmp_path)
    check_study(params, fingerprint(params), n_trials=0)
    assert check_study(params, fingerprint(params), n_trials=3, restart=True, now=NOW) == []
    assert [p.name for p in params.study_dir.parent.iterdir()] == ["unit"]


def test_a_study_older_than_fingerprints_is_recorded_with_a_note_then_guarded(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=2)
    run_loop(StudySession(params, DATA, code_version(params.trial.entrypoint)))
    assert not (params.study_dir / FINGERPRINT).exists()

    notes = guard_study(params, DATA.data_hash)

    assert len(notes) == 1 and notes[0].startswith("note: study unit predates fingerprints")
    assert read_fingerprint(params.study_dir)["data hash"] == DATA.data_hash
    assert guard_study(params, DATA.data_hash) == []
    with pytest.raises(StudyChangedError, match=r"its 2 trial\(s\) .* but got data hash: bbbb… → 3f2a…"):
        guard_study(params, HASH_A)


def test_objectives_directions_and_constraints_are_inputs(tmp_path: Path) -> None:
    one = fingerprint(make_params(tmp_path))
    assert "study.constraints" not in one  # left out when empty: older fingerprints stay valid
    two = make_params(
        tmp_path,
        overrides=(
            "study.metric=[val_accuracy, n_params]",
            "study.direction=[maximize, minimize]",
            'study.constraints=["n_params <= 5e4"]',
        ),
    )
    assert fingerprint_changes(one, fingerprint(two)) == [
        'study.metric: val_accuracy → ["val_accuracy", "n_params"]',
        'study.direction: maximize → ["maximize", "minimize"]',
        'study.constraints: unset → ["n_params <= 50000"]',
    ]
    # A one-element list is the one objective it names; a bound written otherwise is the same bound.
    same = make_params(tmp_path, overrides=("study.metric=[val_accuracy]", "study.direction=[maximize]"))
    assert fingerprint(same) == one
    bound = make_params(tmp_path, overrides=(*two_overrides(), 'study.constraints=["n_params<=50000.0"]'))
    assert fingerprint(bound) == fingerprint(two)
    flipped = make_params(tmp_path, overrides=(*two_overrides(), 'study.constraints=["n_params >= 5e4"]'))
    assert fingerprint_changes(fingerprint(two), fingerprint(flipped)) == [
        'study.constraints: ["n_params <= 50000"] → ["n_params >= 50000"]'
    ]


def two_overrides() -> tuple[str, ...]:
    return ("study.metric=[val_accuracy, n_params]", "study.direction=[maximize, minimize]")
