"""Flows called from Python carry no typed schema of their parameters (flows.called): Prefect's
schema is one of untyped names, the annotations stay for readers and type checkers, and a flow run
still records its parameters."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from ablate.ablation.runs import AblationRun
from ablate.vocab.params import Params
from flows.ablation import ablation_flow
from flows.called import called_from_python
from flows.pipeline import study_flow
from flows.search import search_flow


@pytest.mark.parametrize(("made", "first"), [(study_flow, Params), (search_flow, Params), (ablation_flow, AblationRun)])
def test_the_schema_names_the_parameters_without_their_types(made: typing.Any, first: type) -> None:
    for one in (made, made.with_options(name="again")):
        schema = one.parameters.model_dump()
        assert list(schema["properties"]) == list(typing.get_type_hints(one.fn))[: len(schema["properties"])]
        for name, prop in schema["properties"].items():
            assert set(prop) <= {"position", "title", "default"}, (name, prop)  # no type, $ref or definitions
        assert not schema["definitions"]
    hints = typing.get_type_hints(made.fn)
    assert hints[next(iter(hints))] is first  # what mypy and a reader see


@dataclasses.dataclass(frozen=True)
class Knobs:
    lr: float
    layers: tuple[int, ...]


@flow(name="called-probe", validate_parameters=False)
@called_from_python
def probe(knobs: Knobs, steps: tuple[str, ...] = ("a",)) -> str:
    return str(flow_run.get_id())


def test_a_flow_run_records_its_parameters(prefect_api: str) -> None:
    run_id = probe(Knobs(0.1, (64, 32)), ("a", "b"))
    with get_client(sync_client=True) as client:
        recorded = client.read_flow_run(run_id).parameters
    assert recorded == {"knobs": {"lr": 0.1, "layers": [64, 32]}, "steps": ["a", "b"]}
