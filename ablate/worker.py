"""Set-up of a Dask worker process that runs trials (loaded with ``--preload ablate.worker``).

- Exits when the process that started it dies: a ``kill -9`` of ``ablate run`` must not leave
  orphan workers finishing trials behind the back of the next run.
- One thread for torch per worker: workers are processes, one per core (or GPU).
- Imports torch and the built-in model up front, so the first trial does not pay for it.
"""

from __future__ import annotations

import os
import threading
import time


def dask_setup(worker: object) -> None:
    _exit_with_parent(os.getppid())
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("ABLATE_TORCH_THREADS", "1")))
        import ablate.models.mlp  # noqa: F401  (warm-up)
    except ImportError:
        pass


def _exit_with_parent(parent: int) -> None:
    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, name="ablate-parent-watch", daemon=True).start()
