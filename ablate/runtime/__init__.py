"""Where trials run and what a run records about it: the Dask cluster, worker set-up, progress
lines, provenance, and DVC versioning."""
