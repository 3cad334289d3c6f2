"""The child process of :func:`ablate.ablation.across.hierarchical_probs`: baycomp's hierarchical
test for each arm, read as JSON from stdin, its probabilities written as JSON to stdout."""

from __future__ import annotations

import contextlib
import json
import logging
import sys

import numpy as np

SAMPLES_PER_CHAIN = 2500  # x 4 chains: 10,000 draws, P to about +-0.01


def main() -> None:
    from baycomp import HierarchicalTest

    payload = json.load(sys.stdin)
    rope, seed = float(payload["rope"]), int(payload["seed"])
    logging.getLogger("httpstan").setLevel(logging.ERROR)
    out = {}
    for arm, (x, y) in payload["pairs"].items():
        with contextlib.redirect_stdout(sys.stderr):  # Stan's progress, not the answer
            p = HierarchicalTest.probs(np.array(x), np.array(y), rope, nsamples=SAMPLES_PER_CHAIN, random_state=seed)
        out[arm] = [float(p[0]), float(p[1]), float(p[2])] if rope > 0 else [float(p[0]), 0.0, float(p[1])]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
