"""``make server-stop``: stop the worker ``make deploy`` started and the Prefect server that
``make run`` or ``make deploy`` started, where this checkout started them. A server another
checkout started (they share ``~/.prefect`` and port 4200) is left running, and said so.

    python -m flows.stop          # what `make server-stop` runs, from the checkout's folder
"""

from __future__ import annotations

from pathlib import Path

from flows.server import server_pid_file, stop_owned
from flows.worker import POOL, worker_files


def main() -> int:
    checkout = Path.cwd()
    for path, what in (
        (worker_files()[0], f"the Prefect worker of pool {POOL!r}"),
        (server_pid_file(), "the Prefect server"),
    ):
        said = stop_owned(path, what, checkout)
        if said:
            print(said, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
