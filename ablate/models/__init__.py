"""Built-in trial functions (the trial contract is in :mod:`ablate.trial.contract`)."""
