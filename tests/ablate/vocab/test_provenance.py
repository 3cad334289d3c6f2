"""Provenance: a run's and a trial's as typed records, whose JSON is the flat record earlier runs wrote."""

from __future__ import annotations

import json

import pytest

from ablate.vocab.provenance import Provenance, TrialProvenance
from ablate.vocab.trial import TrialResult

# A trial's provenance as a run of digits wrote it in result.json (the run's keys beside the trial's).
RECORDED = {
    "python": "3.11.9",
    "git_commit": "85f3fe9c0ffee0123456789abcdef0123456789a",
    "git_dirty": True,
    "versions": {"ablate": "0.1.0", "torch": "2.13.0", "optuna": "5.0.0", "prefect": None},
    "sampler": "tpe (auto: 2 conditional knob(s) (momentum, units_3) of 5)",
    "pruner": "hyperband (min_resource=1, max_resource=20, reduction_factor=3)",
    "seeds": "3 per configuration (their mean told)",
    "trials_per_gpu": 2,
    "torch_threads": 1,
    "params_hash": "0123456789abcdef",
    "data_hash": "f" * 64,
    "code_version": "v1",
    "seed": 7,
    "device": "cpu",
}


def test_a_recorded_trial_provenance_reads_into_its_parts_and_writes_back_the_same_json() -> None:
    prov = TrialProvenance.from_dict(RECORDED)
    assert prov.run is not None
    assert prov.run.versions["torch"] == "2.13.0" and prov.run.git_dirty is True
    assert prov.run.settings == {k: RECORDED[k] for k in ("sampler", "pruner", "seeds", "trials_per_gpu")}
    assert (prov.seed, prov.device, prov.code_version, prov.torch_threads) == (7, "cpu", "v1", 1)
    assert json.dumps(prov.to_dict(), sort_keys=True) == json.dumps(RECORDED, sort_keys=True)


def test_a_commit_shows_as_a_trials_table_does() -> None:
    assert Provenance(git_commit="85f3fe9c0ffee0123", git_dirty=True).commit == "85f3fe9c0ffe-dirty"
    assert Provenance(git_commit="85f3fe9c0ffee0123", git_dirty=False).commit == "85f3fe9c0ffe"
    assert Provenance().commit is None  # not run from a git checkout


def test_settings_join_a_runs_environment_without_changing_it() -> None:
    env = Provenance(python="3.11.9", git_commit="abc", versions={"optuna": "5.0.0"})
    run = env.with_settings({"sampler": "random"}).with_settings({"trials_per_gpu": 2})
    assert run.settings == {"sampler": "random", "trials_per_gpu": 2} and env.settings == {}
    assert Provenance.from_dict(run.to_dict()) == run


def test_a_result_json_holds_the_flat_record_and_reads_back_equal() -> None:
    result = TrialResult(
        number=3, metrics={"val_accuracy": 0.9}, duration_s=1.5, worker="w", cached=False, cache_key="k",
        provenance=TrialProvenance.from_dict(RECORDED),
    )  # fmt: skip
    stored = json.loads(result.to_json())
    assert stored["provenance"] == RECORDED
    assert TrialResult.from_dict(stored) == result
    bare = TrialResult(number=3, metrics={}, duration_s=0.0, worker="w", cached=True, cache_key="k")
    assert json.loads(bare.to_json())["provenance"] == {} and TrialResult.from_dict(json.loads(bare.to_json())) == bare


def test_an_older_record_lacking_keys_writes_back_as_it_was_read() -> None:
    # Before params_hash and torch_threads were recorded, and a run that recorded no environment.
    older = {"data_hash": None, "code_version": "v0", "seed": 2, "device": "cpu", "sampler": "random"}
    prov = TrialProvenance.from_dict(older)
    assert prov.params_hash is None and prov.torch_threads is None and prov.data_hash is None
    assert prov.to_dict() == older
    result = TrialResult(number=1, metrics={}, duration_s=0.0, worker="w", cached=True, cache_key="k", provenance=prov)
    assert json.loads(result.to_json())["provenance"] == older  # a cached result is copied so


def test_a_provenance_that_is_not_a_mapping_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be a mapping, but got list"):
        TrialProvenance.from_dict(["cpu"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TrialResult.from_dict({"number": 1, "metrics": {}, "duration_s": 0, "worker": "w", "cached": False,
                               "cache_key": "k", "provenance": "cpu"})  # fmt: skip
