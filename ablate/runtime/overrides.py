"""``--set`` on a study that is a dvc.yaml stage: refused, so that dvc.lock never records outputs
under params values they were not computed with (``dvc exp run -S`` records such a run)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ablate.config.load import load_params, parse_override
from ablate.errors import ConfigError, one_line
from ablate.runtime.dvc import find_repo_root, is_under, quiet_dvc, study_outputs, study_stages
from ablate.vocab.params import Params
from ablate.vocab.steps import STAGES


def check_overrides_recorded(params: Params, overrides: list[str]) -> None:
    """Refuse a ``--set`` that changes a value of a study that is a stage of ``dvc.yaml``.

    ``ablate run`` commits such a study to ``dvc.lock`` beside the values of the params *file*,
    so a study run with other values would be recorded as run with the file's. ``dvc exp run
    -S`` changes the file itself (in an experiment); ``--set study.name=...`` makes a separate
    study (versioned with ``.dvc`` files). Overrides that change no value pass.

    Raises:
        ConfigError: naming the first changed key, with the ``dvc exp run`` command to use.
    """
    root = find_repo_root() if overrides else None
    if root is None:
        return
    changed = _changed_overrides(params, overrides)
    if not changed or not _is_stage_study(params, root):
        return
    key, item, old, new = changed[0]
    try:
        file = os.path.relpath(Path(params.source).resolve(), root)
    except ValueError:
        file = params.source
    exp = " ".join(f"-S {file}:{i}" for _, i, _, _ in changed)
    raise ConfigError(
        f"{params.source} (--set {item})",
        key,
        f"must keep the params file's value for study {params.study.name}, a stage of dvc.yaml (dvc.lock "
        f"records the file's values), but got {_text(old)} → {_text(new)}; run `dvc exp run {exp}` instead, "
        "or also --set study.name=NAME for a separate study",
    )


_UNSET = object()


def _changed_overrides(params: Params, overrides: list[str]) -> list[tuple[str, str, Any, Any]]:
    """(key, override, file's value, overridden value) of each override that changes a value."""
    try:
        base = load_params(params.source).to_dict()
    except ConfigError:  # the file alone is not even valid: every override matters
        base = {}
    final = params.to_dict()
    last = {parse_override(params.source, item)[0]: item for item in overrides}
    out = []
    for key, item in last.items():
        old, new = _lookup(base, key), _lookup(final, key)
        if old != new:
            out.append((key, item, old, new))
    return out


def _lookup(tree: dict[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _UNSET
        node = node[part]
    return node


def _text(value: Any) -> str:
    if value is _UNSET:
        return "unset"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _is_stage_study(params: Params, root: Path) -> bool:
    outs = [p.resolve() for p in study_outputs(params)]
    if not all(is_under(p, root) for p in outs):
        return False
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with quiet_dvc(), Repo(str(root)) as repo:
            return bool(study_stages(repo, outs, STAGES))
    except DvcException as err:
        raise ConfigError(str(root / "dvc.yaml"), "", f"must be readable by DVC, but {one_line(err)}") from None
