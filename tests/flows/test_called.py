"""Flows only Python calls (flows.called): Prefect's schema names their parameters without their
types, the annotations stay for readers and type checkers, a flow run records its parameters as
Prefect's FastAPI encoder would, and making and running one imports no FastAPI."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import typing

import pytest
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from ablate.ablation.runs import AblationRun
from ablate.config.load import load_params
from ablate.vocab.params import Params
from ablate.vocab.steps import STEPS
from ablate.vocab.url import StorageURL
from flows.ablation import ablation_flow
from flows.called import CalledFlow, called_flow
from flows.pipeline import study_flow
from flows.search import search_flow
from tests.flows.helpers import DEFAULT_PARAMS, REPO


@pytest.mark.parametrize(("made", "first"), [(study_flow, Params), (search_flow, Params), (ablation_flow, AblationRun)])
def test_the_schema_names_the_parameters_without_their_types(made: typing.Any, first: type) -> None:
    for one in (made, made.with_options(name="again")):
        assert isinstance(one, CalledFlow)
        schema = one.parameters.model_dump()
        assert list(schema["properties"]) == list(typing.get_type_hints(one.fn))[: len(schema["properties"])]
        for name, prop in schema["properties"].items():
            assert set(prop) <= {"position", "title", "default"}, (name, prop)  # no type, $ref or definitions
        assert not schema["definitions"]
    hints = typing.get_type_hints(made.fn)
    assert hints[next(iter(hints))] is first  # what mypy and a reader see


def test_the_parameters_are_recorded_as_prefects_own_encoder_records_them() -> None:
    from fastapi.encoders import jsonable_encoder

    params = load_params(DEFAULT_PARAMS)
    values = {"params": params, "steps": STEPS, "restart": False}
    for one in (study_flow, study_flow.with_options(name="again")):
        assert one.serialize_parameters(values) == {key: jsonable_encoder(v) for key, v in values.items()}
    url = StorageURL.parse("postgresql://ablate:s3cret@db.example:5432/studies")
    recorded = study_flow.serialize_parameters({"params": url, "steps": object()})
    masked = "postgresql+psycopg://ablate:***@db.example:5432/studies"
    assert recorded == {"params": {"url": masked}, "steps": "<object>"}  # no password, a placeholder


@dataclasses.dataclass(frozen=True)
class Knobs:
    lr: float
    layers: tuple[int, ...]


@called_flow(name="called-probe", validate_parameters=False)
def probe(knobs: Knobs, steps: tuple[str, ...] = ("a",)) -> str:
    return str(flow_run.get_id())


def test_a_flow_run_records_its_parameters(prefect_api: str) -> None:
    run_id = probe(Knobs(0.1, (64, 32)), ("a", "b"))
    with get_client(sync_client=True) as client:
        recorded = client.read_flow_run(run_id).parameters
    assert recorded == {"knobs": {"lr": 0.1, "layers": [64, 32]}, "steps": ["a", "b"]}


def test_a_flow_run_in_a_fresh_process_imports_no_fastapi(prefect_api: str) -> None:
    code = textwrap.dedent(
        """
        import sys
        from flows.called import called_flow

        @called_flow(name="called-probe", validate_parameters=False)
        def probe(knobs: dict, steps: tuple = ("a",)) -> int:
            return len(knobs)

        assert probe.with_options(name="called-probe-2")({"lr": 0.1}, ("a", "b")) == 1
        print(sorted(m for m in sys.modules if m == "fastapi" or m.startswith("fastapi.")))
        """
    )
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
