"""Flows that only Python calls: no validation or typed schema of their parameters, and their
parameters recorded without FastAPI.

``study_flow``, ``search_flow`` and ``ablation_flow`` are called from Python with ablate's own
records (``Params``, ``PreparedData``, ...), as loaded and checked, never with JSON from the API
(a deployment runs ``flows.scheduled``, whose parameters are plain). Three of Prefect's costs for
any flow served them nothing, on the command's one busy core on the way to the first trial
(2-core machine):

- Validating a flow run's parameters builds a pydantic model of them: 0.18 s a flow run. Made with
  :func:`called_flow`, a flow does not validate them (``validate_parameters=False``, always).
- Prefect's ``Flow`` builds a JSON schema of its function's parameters from their annotations each
  time one is made, at the decorator and at every ``with_options``. The schema serves a deployment
  (the UI's form for a run's parameters, the server's check of them). For ablate's records it was
  a pydantic model of each: the pipeline's import and a run's two ``with_options`` took 0.28 s,
  now 0.05 s (timed in one process, 2026-12-08). :func:`called_flow` gives Prefect a signature of the function whose
  parameters are untyped, so that the schema is one of ``Any``: the parameters' names, defaults
  and order stay, and so do the annotations that type checkers and readers see.
- A flow run records its parameters, encoded for JSON by FastAPI's ``jsonable_encoder``; importing
  it imports FastAPI (its application, routing and OpenAPI models: 0.11 s where Prefect is
  imported already), which nothing else in the command uses. A :class:`CalledFlow` encodes them
  with pydantic's ``to_jsonable_python`` instead (Prefect's models already use pydantic): the same
  JSON for ablate's records (the 61 flow runs of the study, ablation, re-tune, verdict, storage
  and deployment tests compared, all equal), a dataclass's fields only (a storage URL's password,
  held outside its fields, stays out of both).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from prefect import Flow

P = ParamSpec("P")
R = TypeVar("R")


class CalledFlow(Flow[P, R]):
    """A Prefect flow that only Python calls (see the module); made with :func:`called_flow`."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """The parameters as the flow run records them, JSON-compatible; a value that pydantic
        cannot encode is recorded as a placeholder naming its type, where it is (Prefect's own
        puts one in place of the whole parameter)."""
        from pydantic_core import to_jsonable_python

        recorded: dict[str, Any] = {}
        for key, value in parameters.items():
            try:
                recorded[key] = to_jsonable_python(value, fallback=_placeholder)
            except (TypeError, ValueError, RecursionError):  # a cycle, a key that cannot be one, ...
                recorded[key] = _placeholder(value)
        return recorded

    def with_options(self, **options: Any) -> CalledFlow[P, R]:
        """Prefect's ``with_options``, whose flow stays of this class (Prefect makes a plain
        ``Flow`` of the same function, with the same attributes); it never validates parameters."""
        _refuse_validation(options)
        made = super().with_options(**options)
        made.__class__ = type(self)
        return cast(CalledFlow[P, R], made)


def called_flow(**options: Any) -> Callable[[Callable[P, R]], CalledFlow[P, R]]:
    """``@flow(**options)`` for a flow that only Python calls (see the module)."""
    _refuse_validation(options)

    def make(fn: Callable[P, R]) -> CalledFlow[P, R]:
        sig = inspect.signature(fn)
        untyped = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
        # Kept by every flow Prefect makes of this function (with_options makes a new one).
        fn.__signature__ = sig.replace(parameters=untyped, return_annotation=inspect.Signature.empty)  # type: ignore[attr-defined]
        return CalledFlow(fn, **{**options, "validate_parameters": False})

    return make


def _refuse_validation(options: dict[str, Any]) -> None:
    if options.get("validate_parameters"):  # its model would be of untyped parameters: no check at all
        raise ValueError("a CalledFlow does not validate its parameters: they are ablate's records, checked")


def _placeholder(value: Any) -> str:
    return f"<{type(value).__name__}>"
