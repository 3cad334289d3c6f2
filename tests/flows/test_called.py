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
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from ablate.ablation.runs import AblationRun
from ablate.config.load import load_params
from ablate.runtime.provenance import collect_provenance
from ablate.vocab.params import Params
from ablate.vocab.steps import STEPS
from ablate.vocab.trial import PreparedData
from ablate.vocab.url import StorageURL
from flows.ablation import ablation_flow
from flows.called import CalledFlow, called_flow
from flows.pipeline import study_flow
from flows.search import search_flow
from tests.flows.helpers import REPO


@pytest.mark.parametrize(("made", "first"), [(study_flow, Params), (search_flow, Params), (ablation_flow, AblationRun)])
def test_the_schema_names_the_parameters_without_their_types(made: typing.Any, first: type) -> None:
    for one in (made, made.with_options(name="again")):
        assert isinstance(one, CalledFlow)
        schema = one.parameters.model_dump()
        assert list(schema["properties"]) == list(typing.get_type_hints(one.fn))[: len(schema["properties"])]
        for name, prop in schema["properties"].items():
            assert set(prop) <= {"position", "title", "default", "description"}, (name, prop)  # no type or $ref
        assert not schema["definitions"]
    hints = typing.get_type_hints(made.fn)
    assert hints[next(iter(hints))] is first  # what mypy and a reader see


@pytest.mark.parametrize("path", sorted((REPO / "params").glob("*.yaml")), ids=lambda p: p.name)
def test_the_parameters_are_recorded_as_prefects_own_encoder_records_them(path: Path) -> None:
    from fastapi.encoders import jsonable_encoder

    params = load_params(path)
    prepared = PreparedData("/data/prepared/x", "ab12", "classification", 64, 10, {"train": [100, 64]})
    calls = [
        (study_flow, {"params": params, "steps": STEPS, "restart": False}),
        (
            search_flow.with_options(name="again"),
            {
                "params": params,
                "prepared": prepared,
                "workers": 2,
                "provenance": collect_provenance(),
                "resources": None,
            },
        ),
        *((study_flow, {"params": view}) for view in (params.datasets or {}).values()),
    ]
    for made, values in calls:
        assert made.serialize_parameters(values) == {key: jsonable_encoder(v) for key, v in values.items()}


def test_what_cannot_be_encoded_is_a_placeholder_where_it_is_and_a_password_stays_out() -> None:
    url = StorageURL.parse("postgresql://ablate:s3cret@db.example:5432/studies")
    recorded = study_flow.serialize_parameters({"params": url, "steps": {"odd": object(), "n": 1}})
    masked = "postgresql+psycopg://ablate:***@db.example:5432/studies"
    assert recorded == {"params": {"url": masked}, "steps": {"odd": "<object>", "n": 1}}


def test_a_called_flow_never_validates_its_parameters() -> None:
    with pytest.raises(ValueError, match="does not validate"):
        called_flow(name="validated", validate_parameters=True)
    with pytest.raises(ValueError, match="does not validate"):
        study_flow.with_options(validate_parameters=True)
    assert not study_flow.should_validate_parameters
    assert not study_flow.with_options(name="again").should_validate_parameters


@dataclasses.dataclass(frozen=True)
class Knobs:
    lr: float
    layers: tuple[int, ...]


@called_flow(name="called-probe")
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

        @called_flow(name="called-probe")
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
