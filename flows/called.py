"""Flows that only Python calls: no schema of their parameters' types, and their parameters
recorded without FastAPI.

``study_flow``, ``search_flow`` and ``ablation_flow`` are called from Python with ablate's own
records (``Params``, ``PreparedData``, ...), never through a deployment (a deployment runs
``flows.scheduled``, whose parameters are plain). Two of Prefect's costs for any flow served them
nothing, on the command's one busy core on the way to the first trial (2-core machine,
2026-12-08):

- Prefect's ``Flow`` builds a JSON schema of its function's parameters from their annotations each
  time one is made, at the ``@flow`` decorator and at every ``with_options``. The schema serves a
  deployment (the UI's form for a run's parameters, the server's check of them). Those of ablate's
  records were pydantic models of them: the pipeline's import and a run's two ``with_options``
  took 0.28 s, now 0.05 s. A :class:`CalledFlow` gives Prefect a signature whose parameters are untyped, so that
  the schema is one of ``Any``: the parameters' names, defaults and order stay, and so do the
  annotations that type checkers and readers see.
- A flow run records its parameters, encoded for JSON by FastAPI's ``jsonable_encoder``; importing
  it imports FastAPI (its application, routing and OpenAPI models: 0.11 s where Prefect is
  imported already), which nothing else in the command uses. A :class:`CalledFlow` encodes them
  with pydantic's ``to_jsonable_python`` instead (Prefect's models already use pydantic): the same
  JSON for these records (the 61 flow runs of the study, ablation, re-tune, verdict, storage and
  deployment tests compared, all equal), a dataclass's fields only (a storage URL's password,
  held outside its fields, stays out of both).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Flow

P = ParamSpec("P")
R = TypeVar("R")


class CalledFlow(Flow[P, R]):
    """A Prefect flow that only Python calls (see the module); made with :func:`called_flow`."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """The parameters as the flow run records them: JSON-compatible values, or a placeholder
        naming the type of one that is not (as Prefect's own)."""
        from pydantic_core import to_jsonable_python

        recorded: dict[str, Any] = {}
        for key, value in parameters.items():
            try:
                recorded[key] = to_jsonable_python(value)
            except (TypeError, ValueError, RecursionError):  # pydantic's serialization error is a ValueError
                recorded[key] = f"<{type(value).__name__}>"
        return recorded

    def with_options(self, **options: Any) -> CalledFlow[P, R]:
        """Prefect's ``with_options``, whose flow stays a :class:`CalledFlow` (Prefect makes a
        plain ``Flow`` of the same function, with the same attributes)."""
        made = super().with_options(**options)
        made.__class__ = CalledFlow
        return made  # type: ignore[return-value]


def called_flow(**options: Any) -> Callable[[Callable[P, R]], CalledFlow[P, R]]:
    """``@flow(**options)`` for a flow that only Python calls (see the module)."""

    def make(fn: Callable[P, R]) -> CalledFlow[P, R]:
        sig = inspect.signature(fn)
        untyped = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
        # Kept by every flow Prefect makes of this function (with_options makes a new one).
        fn.__signature__ = sig.replace(parameters=untyped, return_annotation=inspect.Signature.empty)  # type: ignore[attr-defined]
        return CalledFlow(fn, **options)

    return make
