"""One line per finished trial: done/running/failed, best so far and an ETA."""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from ablate.vocab import states
from ablate.vocab.direction import better
from ablate.vocab.objectives import Constraint

ETA_WINDOW = 200  # trial durations the ETA takes the median of


@dataclass
class Progress:
    total: int  # trials the study still needed when this run started
    metric: str
    direction: str
    workers: int
    # An ablation's "best" single run means nothing, nor does one with several objectives: no best.
    show_best: bool = True
    done: int = 0
    failed: int = 0
    best: tuple[str, float] | None = None
    # The ETA's trial durations: the latest ones (the median of all of them, each trial, cost
    # O(n log n) per line at 5,000 trials, and trials late in a study run differently).
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=ETA_WINDOW))
    start: float = field(default_factory=time.monotonic)
    other_metrics: tuple[str, ...] = ()  # further objectives, shown beside the first
    constraints: tuple[Constraint, ...] = ()  # a trial that misses one says so, and is never the best

    def finished(
        self,
        label: str,
        state: str,
        value: float | None,
        duration_s: float | None,
        running: int,
        note: str = "",
        metrics: Mapping[str, float] | None = None,
    ) -> str:
        """Account for one finished trial (``label``: "trial 7", "-batchnorm seed 3") and return
        the line to print. ``metrics``: all a complete trial returned (its other objectives and
        constrained metrics)."""
        self.done += 1
        self.failed += state == states.FAIL
        if duration_s is not None and note != "cached":
            self.durations.append(duration_s)
        missed = [c.text for c in self.constraints if metrics is not None and not c.met(metrics)]
        if value is not None and not missed and (self.best is None or self._better(value, self.best[1])):
            self.best = (label, value)
        shown = f"{self.metric}={value:.4f}" if value is not None else state
        if value is not None and metrics is not None:
            shown += "".join(f" {m}={_show(metrics[m])}" for m in self.other_metrics)
        best = f" | best {self.best[1]:.4f} ({self.best[0]})" if self.best else " | best -"
        note = "; ".join(filter(None, [note, f"infeasible: {', '.join(missed)}" if missed else ""]))
        tag = f" [{note}]" if note else ""
        return (
            f"[{self.done:>{len(str(self.total))}}/{self.total}] {label:<9} {shown}{tag}"
            f" | running {running} | failed {self.failed}{best if self.show_best else ''} | ETA {self.eta(running)}"
        )

    def _better(self, a: float, b: float) -> bool:
        return better(a, b, self.direction)

    def eta(self, running: int) -> str:
        left = self.total - self.done
        if left <= 0:
            return "0s"
        if self.durations:
            per = statistics.median(self.durations) / max(1, self.workers)
        elif self.done:
            per = (time.monotonic() - self.start) / self.done
        else:
            return "?"
        return _fmt(per * left)


def _show(value: float) -> str:
    """A whole number as such (a parameter count), anything else to 4 significant digits."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def _fmt(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
