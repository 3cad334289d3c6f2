"""The seed keys of the ``ablation:`` section: ``seeds`` (a number, or ``auto``) and, for
``auto``, ``max_seeds``, ``pilot_seeds`` and ``round_seeds``; what must hold of them together
with ``min_effect`` and the policy."""

from __future__ import annotations

from ablate._reader import Reader
from ablate.errors import ConfigError
from ablate.vocab.ablation import AUTO
from ablate.vocab.seed_plan import SeedPlan


def parse_seeds(r: Reader) -> int | None:
    value = r.raw.get("seeds", SeedPlan.fixed)
    if value == AUTO:
        r.get("seeds", None)
        return None
    rule = "must be a positive integer (paired seeds per arm) or auto (chosen adaptively)"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 1:
        r.get("seeds", None)
        raise r.error("seeds", rule, value)
    return r.int("seeds", SeedPlan.fixed, low=1)


_ADAPTIVE_KEYS = ("max_seeds", "pilot_seeds", "round_seeds")


def parse_adaptive(r: Reader, auto: bool) -> dict[str, int]:
    given = {k: r.raw[k] for k in _ADAPTIVE_KEYS if k in r.raw}
    if given and not auto:
        name = next(iter(given))
        raise r.error(name, "is only for seeds: auto (an integer seeds is a fixed design)", given[name])
    return {
        "pilot_seeds": r.int("pilot_seeds", SeedPlan.pilot, low=3),
        "round_seeds": r.int("round_seeds", SeedPlan.round, low=1),
        "max_seeds": r.int("max_seeds", SeedPlan.max_seeds, low=1),
    }


def check_seeds(r: Reader, adaptive: bool, min_effect: float | None, policy: str, plan: SeedPlan) -> None:
    """What must hold of an adaptive design, checked once the whole section is read."""
    if not adaptive:
        return
    if min_effect is None:
        raise ConfigError(
            r.source,
            r.key("min_effect"),
            "is required with seeds: auto (the smallest effect of interest, in units of the study metric, "
            "e.g. 0.005 for half a point of accuracy: the margin that lets an arm be shown negligible), "
            "but it is missing",
        )
    if policy == "path":
        raise r.error(
            "seeds",
            "must be a number for policy path (its steps are chosen from the arms' means over the seeds: "
            "adding seeds would choose them again)",
            AUTO,
        )
    if plan.max_seeds < plan.pilot:
        raise r.error("max_seeds", f"must be at least pilot_seeds ({plan.pilot})", plan.max_seeds)
    if (plan.max_seeds - plan.pilot) % plan.round:
        looks = ", ".join(str(n) for n in plan.grid(plan.pilot + 3 * plan.round))
        raise r.error(
            "max_seeds",
            f"must be a look of the design, pilot_seeds + a multiple of round_seeds ({looks}, ...)",
            plan.max_seeds,
        )
