"""One trial: the contract a trial function follows, its context, running it on a worker, the
content-addressed cache of its results, the failure taxonomy, and rerunning a recorded trial."""
