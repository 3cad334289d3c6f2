"""The parameter importance of a study, kept with what it was computed from, and read back while
that is unchanged: its refits take seconds on a large study (PED-ANOVA and fANOVA, 10 each), and
a report of an unchanged study (a rerun, ``ablate report``) would otherwise redo them all.

The key is what :func:`~ablate.study.importance.param_importance` computes from: the complete
trials' knobs, their search distributions and values, how many trials are in each other state,
the direction, the seed and the refits; and the code that computes it (``importance.py``) and
the versions of Optuna, scikit-learn and numpy. The refits are seeded, so the same key gives the
same table.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ablate.study import importance
from ablate.study.importance import COLUMNS, REPEATS, ParamImportance, param_importance
from ablate.vocab import states

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial


def cached_param_importance(
    trials: Sequence[FrozenTrial], direction: str, seed: int, record: Path, repeats: int = REPEATS
) -> ParamImportance:
    """:func:`~ablate.study.importance.param_importance`, or the one ``record`` holds (a file
    :func:`to_record` wrote) when it was computed from the same; either way with its ``key``."""
    key = importance_key(trials, direction, seed, repeats)
    kept = read_record(record) if key else None
    if kept is not None and kept.key == key:
        return kept
    return replace(param_importance(trials, direction, seed, repeats), key=key)


def importance_key(trials: Sequence[FrozenTrial], direction: str, seed: int, repeats: int = REPEATS) -> str:
    """The key of the table these trials give; "" (never reused) where the code computing it
    cannot be read (an install without sources)."""
    import numpy
    import optuna
    from optuna.distributions import distribution_to_json

    try:
        code = Path(importance.__file__).read_bytes()
    except OSError:
        return ""

    done = [
        (t.number, t.params, {k: distribution_to_json(d) for k, d in t.distributions.items()}, t.values[0])
        for t in trials
        if t.state.name == states.COMPLETE and t.values and math.isfinite(t.values[0])
    ]
    counts = sorted(Counter(t.state.name for t in trials).items())
    # fANOVA's forests are scikit-learn's (its version read without importing it: 1 s), the
    # half-samples numpy's generator's.
    versions = [optuna.__version__, metadata.version("scikit-learn"), numpy.__version__]
    h = hashlib.sha256(json.dumps([done, counts, direction, seed, repeats, versions], default=str).encode())
    h.update(code)
    return h.hexdigest()


def to_record(imp: ParamImportance) -> dict[str, Any]:
    """A JSON-able record that :func:`read_record` reads back into an equal one."""
    return {
        "key": imp.key,
        "table": imp.table[COLUMNS].to_dict("records"),
        "n_used": imp.n_used,
        "excluded": imp.excluded,
        "reason": imp.reason,
        "notes": list(imp.notes),
    }


def read_record(path: Path) -> ParamImportance | None:
    """The importance ``path`` holds; None when there is none, or not one this code wrote."""
    try:
        record = json.loads(path.read_text())
        table = pd.DataFrame(record["table"], columns=COLUMNS)
        if len(table):
            table["n_trials"] = table["n_trials"].astype(int)
        return ParamImportance(
            table,
            int(record["n_used"]),
            dict(record["excluded"]),
            str(record["reason"]),
            tuple(record["notes"]),
            str(record["key"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
