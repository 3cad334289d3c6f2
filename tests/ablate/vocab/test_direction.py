"""The direction of an objective, in one place: which of two values is better, the sign of a gain,
the word a caption uses, and a clear error for anything that is not a direction."""

from __future__ import annotations

import pytest

from ablate.vocab.direction import DIRECTIONS, better, better_word, check_direction, maximizes, sign


@pytest.mark.parametrize(
    ("direction", "a", "b", "expected"),
    [
        ("maximize", 0.9, 0.8, True),
        ("maximize", 0.8, 0.9, False),
        ("minimize", 0.8, 0.9, True),
        ("minimize", 0.9, 0.8, False),
        ("maximize", 0.5, 0.5, False),  # strictly better: a tie is not
        ("minimize", 0.5, 0.5, False),
    ],
)
def test_better_is_strict_and_follows_the_direction(direction: str, a: float, b: float, expected: bool) -> None:
    assert better(a, b, direction) is expected


def test_the_sign_turns_a_difference_into_a_gain() -> None:
    # 0.9 against 0.8: a gain of 0.1 when higher is better, a loss of 0.1 when lower is.
    assert sign("maximize") * (0.9 - 0.8) == pytest.approx(0.1)
    assert sign("minimize") * (0.9 - 0.8) == pytest.approx(-0.1)
    assert [maximizes(d) for d in DIRECTIONS] == [True, False]
    assert [better_word(d) for d in DIRECTIONS] == ["higher", "lower"]


@pytest.mark.parametrize("bad", ["max", "Maximize", "", None, 1])
def test_anything_else_is_refused_naming_what_it_got(bad: object) -> None:
    with pytest.raises(ValueError, match=f"direction must be 'maximize' or 'minimize', but got {bad!r}"):
        check_direction(bad)
    with pytest.raises(ValueError):
        better(1.0, 0.0, bad)  # type: ignore[arg-type]
