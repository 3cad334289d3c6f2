"""An anytime study: each scheduled run adds a number of trials to the study, up to a cap."""

from __future__ import annotations

from ablate.errors import ConfigError
from ablate.study.storage import FINISHED, load_study
from ablate.vocab.params import Params


def grown_n_trials(params: Params, grow_by: int, max_trials: int | None = None) -> int:
    """``search.n_trials`` for a run that adds ``grow_by`` trials to the study's finished ones.

    Counted from the trials the study has finished (complete, pruned or failed), so a run that
    was interrupted is not made up for twice: the next one adds ``grow_by`` to what is there.
    ``max_trials`` caps the study; a study at its cap gets no new trial (the run finds nothing
    to do). The file's ``search.n_trials`` is not used.

    Raises:
        ConfigError: ``grow_by`` < 1, ``max_trials`` < 1, or a study without a search.
    """
    if params.search is None:
        raise ConfigError(params.source, "search", f"must be set to grow the study by {grow_by} trials, but got none")
    if grow_by < 1:
        raise ConfigError(params.source, "", f"grow_by must be an integer >= 1, but got {grow_by}")
    if max_trials is not None and max_trials < 1:
        raise ConfigError(params.source, "", f"max_trials must be an integer >= 1 or null, but got {max_trials}")
    study = load_study(params, read_only=True)
    finished = 0 if study is None else len(study.get_trials(deepcopy=False, states=FINISHED))
    target = finished + grow_by
    return target if max_trials is None else max(min(target, max_trials), finished, 1)
