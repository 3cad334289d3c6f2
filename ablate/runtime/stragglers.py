"""The straggler rule (:class:`ablate.vocab.params.StragglerRule`): a trial much slower than
its peers at the same reported step."""

from __future__ import annotations

import statistics

from ablate.vocab.params import StragglerRule

FLOOR_S = 1.0  # a straggler is also at least this much later than its peers' median


class StepClock:
    """How long each trial took, from its start, to report each step; judges a running trial
    against the others."""

    def __init__(self, rule: StragglerRule) -> None:
        self.rule = rule
        self._reached: dict[int, list[float]] = {}  # step -> seconds each trial took to report it

    def reached(self, step: int, elapsed_s: float) -> None:
        self._reached.setdefault(step, []).append(elapsed_s)

    def judge(self, last_step: int | None, elapsed_s: float) -> str | None:
        """Why a trial that reported ``last_step`` (None: no step yet) and has run ``elapsed_s``
        is a straggler, or None: the first later step that ``min_peers`` trials reached, which it
        has not reached after ``factor`` times their median time (and ``FLOOR_S`` more)."""
        later = sorted(
            s
            for s, times in self._reached.items()
            if len(times) >= self.rule.min_peers and (last_step is None or s > last_step)
        )
        if not later:
            return None
        step = later[0]
        median = statistics.median(self._reached[step])
        if elapsed_s <= self.rule.factor * median or elapsed_s - median < FLOOR_S:
            return None
        peers = len(self._reached[step])
        return (
            f"step {step} not reached after {elapsed_s:.1f} s; {peers} other trials reached it in "
            f"{median:.1f} s (median; factor {self.rule.factor:g})"
        )
