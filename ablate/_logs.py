"""A library's logger held at a level for a while (its lines that ablate says itself, or that say
nothing to the user), and given back its own level after."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


@contextlib.contextmanager
def logger_held_at(name: str, level: int) -> Iterator[None]:
    """Within the block, the logger ``name`` passes records from ``level`` up only."""
    logger = logging.getLogger(name)
    own = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(own)
