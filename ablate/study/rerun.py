"""rerun: execute one recorded trial again from its record and compare its metrics."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass

from ablate.data import load_prepared_info
from ablate.errors import AblateError
from ablate.study.repeats import seed_list
from ablate.trial.contract import read_result, seed_folder
from ablate.trial.entrypoint import code_version
from ablate.trial.execute import execute_trial
from ablate.vocab.params import Params
from ablate.vocab.provenance import TrialProvenance
from ablate.vocab.trial import TrialResult, TrialSpec


@dataclass(frozen=True)
class Rerun:
    original: TrialResult
    again: TrialResult
    warnings: list[str]

    @property
    def identical(self) -> bool:
        return self.original.metrics == self.again.metrics


def rerun_trial(params: Params, number: int, seed: int | None = None) -> Rerun:
    """Run trial ``number`` of ``params``'s study again, as recorded, into a temporary folder;
    with ``search.seeds`` > 1, its run with ``seed`` (folder ``<number>.s<seed>``).

    The study's own folder is not touched. On CPU the metrics match bit for bit when the code,
    data and library versions are those recorded (differences are reported as warnings).
    """
    trials = params.study_dir / "trials"
    trial_dir = trials / (str(number) if seed is None else seed_folder(number, seed))
    original = read_result(trial_dir)
    if original is None:
        n_seeds = params.search.seeds if params.search is not None else 1
        runs = [s for s in seed_list(params.study.seed, n_seeds) if read_result(trials / seed_folder(number, s))]
        if seed is None and runs:
            raise AblateError(
                f"trial {number} is the mean of runs with seeds {', '.join(map(str, runs))} (search.seeds): "
                "name one with --seed SEED"
            )
        raise AblateError(f"{trial_dir}: trial {number} has no result.json (it never completed, or was not run)")
    prepared = load_prepared_info(params.prepared_dir)
    prov = original.provenance
    warnings = _differences(params, prepared.data_hash, prov)
    threads = prov.torch_threads if prov is not None else None
    if threads and "torch" not in sys.modules:
        import torch  # noqa: F401  (to match the recorded intra-op threads below)
    if threads and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(threads))
    with tempfile.TemporaryDirectory(prefix="ablate-rerun-") as tmp:
        spec = TrialSpec(
            study=params.study.name,
            number=number,
            params=original.params,
            seed=prov.seed if prov is not None and prov.seed is not None else params.study.seed,
            entrypoint=params.trial.entrypoint,
            code_version=code_version(params.trial.entrypoint),
            data=prepared,
            trials_dir=tmp,
            timeout_s=None,
            device="cpu" if prov is None or (prov.device or "cpu") == "cpu" else params.execution.device,
            provenance=prov.run if prov is not None else None,
        )
        again = execute_trial(spec)
    return Rerun(original, again, warnings)


def _differences(params: Params, data_hash: str, prov: TrialProvenance | None) -> list[str]:
    notes: list[str] = []
    if prov is None:
        return notes
    if prov.data_hash and prov.data_hash != data_hash:
        notes.append("the prepared data differ from the trial's (data hash changed)")
    if prov.code_version and prov.code_version != code_version(params.trial.entrypoint):
        notes.append("the trial code differs from the trial's (code version changed)")
    return notes


def describe(rerun: Rerun) -> str:
    lines = []
    for name, before in sorted(rerun.original.metrics.items()):
        after = rerun.again.metrics.get(name)
        mark = "==" if after == before else "!="
        lines.append(f"  {name}: {before!r} {mark} {after!r}")
    return "\n".join(lines)
