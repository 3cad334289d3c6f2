"""A trial function named by ``module:function``: finding, checking and versioning it."""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ablate import __version__
from ablate.errors import ConfigError
from ablate.trial.context import TrialContext

TrialFunction = Callable[[dict[str, Any], TrialContext], dict[str, float]]


def load_entrypoint(entrypoint: str) -> TrialFunction:
    """Import ``module:function``; raises ImportError/AttributeError as Python does."""
    module_name, _, func_name = entrypoint.partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    if not callable(func):
        raise TypeError(f"{entrypoint} is not callable")
    return func


def check_entrypoint(entrypoint: str, params_file: str) -> None:
    """At the edge: the trial function must import here (and so, on a local worker).

    ablate's own trial functions are only looked up in their source: importing them would
    import torch (seconds) in a command that may run no trial at all.
    """
    try:
        if entrypoint.partition(".")[0] == "ablate":
            _find_function(entrypoint)
        else:
            load_entrypoint(entrypoint)
    except Exception as err:  # whatever import raises, the user's fix is the same
        module_name = entrypoint.partition(":")[0]
        missing = isinstance(err, ModuleNotFoundError) and (module_name + ".").startswith(f"{err.name}.")
        hint = _where_to_import(entrypoint, params_file) if missing else ""  # not a module it imports
        raise ConfigError(
            params_file,
            "trial.entrypoint",
            f"must name an importable module:function, but {entrypoint!r} gave {type(err).__name__}: {err}{hint}",
        ) from None


def _where_to_import(entrypoint: str, params_file: str) -> str:
    """Where a module not found was looked for, and the entrypoint that imports a file of that
    name beside the params file (``params/my_sgd.py`` is ``params.my_sgd``, from the folder
    ablate runs in)."""
    module_name, _, func_name = entrypoint.partition(":")
    cwd = Path.cwd()
    looked = f" (looked in the folder ablate runs in, {cwd}, and the installed packages"
    beside = Path(params_file).resolve().parent / (module_name.replace(".", "/") + ".py")
    if not beside.is_file():
        return f"{looked}; a module of your own goes in that folder, or is pip-installed)"
    try:
        dotted = ".".join(beside.with_suffix("").relative_to(cwd).parts)
    except ValueError:  # the params file lies outside the folder ablate runs in
        return f"{looked}; {beside} is outside it: run ablate from a folder that holds it, or pip-install it)"
    return f"{looked}; {beside.relative_to(cwd)} is there as {dotted}: write {dotted + ':' + func_name!r})"


def _find_function(entrypoint: str) -> None:
    """Raise as an import would when ``module:function`` is not defined at module level."""
    module_name, _, func_name = entrypoint.partition(":")
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        raise ModuleNotFoundError(f"No module named {module_name!r}")
    tree = ast.parse(Path(spec.origin).read_bytes(), filename=spec.origin)
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if func_name not in names:
        raise AttributeError(f"module {module_name!r} has no attribute {func_name!r}")


def code_version(entrypoint: str) -> str:
    """Version of the trial code: the entrypoint module's source bytes and ablate's version."""
    module_name = entrypoint.partition(":")[0]
    spec = importlib.util.find_spec(module_name)
    origin = spec.origin if spec else None
    source = Path(origin).read_bytes() if origin and os.path.isfile(origin) else module_name.encode()
    return hashlib.sha256(source + __version__.encode()).hexdigest()[:16]
