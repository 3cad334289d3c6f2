"""Flows that only Python calls need no schema of their parameters.

Prefect's ``Flow`` builds a JSON schema of its function's parameters, from their annotations, each
time one is made: at the ``@flow`` decorator and at every ``with_options``. The schema serves a
deployment (the UI's form for a run's parameters, the server's check of them). ``study_flow``,
``search_flow`` and ``ablation_flow`` are called from Python with ablate's own records (``Params``,
``PreparedData``, ...), never through a deployment (a deployment runs ``flows.scheduled``, whose
parameters are plain). Their schemas were pydantic models of those records: 0.23 s of the
command's one busy core on the way to the first trial (import 0.13 s, the two ``with_options``
0.15 s; 2-core machine, 2026-12-08), for a schema nothing read.

:func:`called_from_python` gives Prefect a signature whose parameters are untyped, so that the
schema is one of ``Any``: the parameters' names, defaults and order stay, and so do the
annotations that type checkers and readers see. The flow run's parameters are recorded as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def called_from_python(fn: F) -> F:
    """``fn`` with a signature that tells Prefect nothing of its parameters' types (see the module);
    put it under ``@flow``."""
    sig = inspect.signature(fn)
    untyped = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    fn.__signature__ = sig.replace(parameters=untyped, return_annotation=inspect.Signature.empty)  # type: ignore[attr-defined]
    return fn
