"""search.timeout_s: a wall-clock budget for one run's search.

Past it no new trial is asked; the trials running then finish and are told (a trial's seeds all
run once it was asked), and the run ends saying it stopped on its budget. The study keeps what it
has: the next run, or the scheduled grow, continues it with a budget of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class SearchBudget:
    timeout_s: float | None  # None: no limit
    start: float = field(default_factory=time.monotonic)
    spent: bool = False  # set once an ask was refused for it

    def allows_ask(self) -> bool:
        """Whether a new trial may still be asked; False from the deadline on (and remembered)."""
        if self.timeout_s is not None and time.monotonic() - self.start >= self.timeout_s:
            self.spent = True
        return not self.spent

    def describe_stop(self) -> str:
        """The run's line when it stops asking: what happens to the trials still running."""
        waited = time.monotonic() - self.start
        return (
            f"search: search.timeout_s={self.timeout_s:g} s reached after {waited:.1f} s: no new trial is asked, "
            "the trials running finish; run again to continue the study"
        )
