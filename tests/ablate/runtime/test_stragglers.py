"""The straggler rule and the driver's record of what it did to trials, without a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ablate.config.load import load_params
from ablate.runtime.stragglers import StepClock
from ablate.study.table import describe_interventions
from ablate.vocab.params import StragglerRule

REPO = Path(__file__).resolve().parents[3]


def clock(times: dict[int, list[float]], **rule) -> StepClock:
    c = StepClock(StragglerRule(**rule))
    for step, elapsed in times.items():
        for t in elapsed:
            c.reached(step, t)
    return c


def test_a_trial_is_a_straggler_only_past_factor_times_its_peers_median_at_its_next_step() -> None:
    c = clock({1: [1.0, 1.2, 0.8], 2: [2.0, 2.4]})  # step 2: only 2 peers, fewer than min_peers 3
    assert c.judge(None, 4.0) is None  # exactly factor (4) times the median (1.0) of step 1
    assert c.judge(None, 4.1) == (
        "step 1 not reached after 4.1 s; 3 other trials reached it in 1.0 s (median; factor 4)"
    )
    assert c.judge(1, 100.0) is None  # past step 1: no later step has min_peers peers yet
    c.reached(2, 2.2)
    assert c.judge(1, 8.7) is None and c.judge(1, 8.9).startswith("step 2 not reached after 8.9 s")


def test_short_steps_need_a_second_more_than_their_median_and_min_peers_is_kept() -> None:
    c = clock({1: [0.01, 0.02, 0.01]})
    assert c.judge(None, 0.5) is None  # 50x the median, but not 1 s later than it
    assert c.judge(None, 1.02) is not None
    assert clock({1: [1.0, 1.0, 1.0]}, min_peers=4).judge(None, 60.0) is None
    assert clock({1: [1.0, 1.0]}, min_peers=2, factor=2.0).judge(None, 2.5) is not None


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        (None, StragglerRule()),  # on by default: flag only
        ({"factor": 10, "min_peers": 5, "stop": True}, StragglerRule(10.0, 5, True)),
        ("off", None),
        (False, None),
    ],
)
def test_execution_stragglers(given, rule) -> None:
    # A --set value is YAML, and JSON is YAML.
    sets = [] if given is None else [f"execution.stragglers={given if isinstance(given, str) else json.dumps(given)}"]
    ex = load_params(REPO / "params" / "digits.yaml", sets).execution
    assert ex.stragglers == rule and ex.timeout_grace_s == 10.0


def test_interventions_name_the_trials_stopped_moved_and_flagged() -> None:
    frame = pd.DataFrame(
        {
            "number": [0, 1, 2, 3, 4],
            "state": ["FAIL", "COMPLETE", "COMPLETE", "FAIL", "FAIL"],
            "reason": ["timeout", "moved", "", "straggler", "error"],
            "duration_s": [12.04, 1.0, 1.0, None, 0.1],
            "straggler": ["", "", "step 3 not reached ...", "step 1 not reached ...", ""],
        }
    )
    assert describe_interventions(frame) == (
        "stopped trials 0 (timeout, held its worker 12.0 s), 3 (straggler); moved trial 1 to another worker; "
        "flagged trials 2, 3 as stragglers"
    )
    assert describe_interventions(frame.iloc[[2]].assign(straggler="")) is None
