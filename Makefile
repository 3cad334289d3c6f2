# ablate: `make run` sets everything up and runs the default study; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch first, pinned to a release with a CPU wheel at hand; the package accepts newer torch.
TORCH_SPEC ?= torch==2.13.0
PARAMS ?= params/digits.yaml
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: run test install lint docs bench bench-pruning bench-samplers bench-conditional bench-report bench-verdicts deploy server-stop clean

run: install
	$(BIN)/ablate run $(PARAMS)

# Two test processes, a test file each at a time (pytest-xdist): see pyproject.toml. The files in
# the order tests/conftest.py gives them (integration files first), not reordered by their size.
test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

install: $(VENV)/.installed

# torch with pip, which honours pip's own configuration (where the CPU wheel lies); the rest with
# uv, which installs ablate's ~250 dependencies in ~40 s (bytecode compiled) where pip took ~3 minutes.
# Bytecode compiled at install (where PYTHONDONTWRITEBYTECODE is set, nothing writes it later): pip
# compiles torch's 2,300 files one by one (29 s of 37), compileall on every core (8 s; not torch's
# own test helpers, one of which is written for a newer Python), and this checkout's own packages,
# which the editable install leaves as source (each command compiled the ~90 modules it imports:
# 0.15 s of its start-up where PYTHONDONTWRITEBYTECODE is set; a module edited since is compiled as
# before; a file that does not compile fails where it is imported, not here).
$(VENV)/.installed: pyproject.toml
	@echo "installing ablate, torch (CPU) and their dependencies into $(VENV): about a minute the first time"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --no-compile "$(TORCH_SPEC)" "uv>=0.9"
	$(BIN)/python -m compileall -q -j 0 -x '/torch/testing/_internal/' "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/torch"
	$(BIN)/uv pip install -q --python $(BIN)/python --compile-bytecode -e ".[dev]"
	-$(BIN)/python -m compileall -q -j 0 ablate flows tasks
	touch $@

lint: install
	$(BIN)/ruff check ablate flows tasks tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

# The documentation site (docs/, mkdocs.yml) into site/; --strict: a broken link, page or anchor fails.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Everyday commands in fresh processes on the finished default study (bench_cli; it runs it first),
# W1, W2, start-up and rerun (bench_search), then throughput on 4 x 4 and a 5,000-trial study
# (bench_scale), each beside plain Optuna + Dask futures: about 10 minutes.
bench: install
	$(BIN)/python bench/bench_cli.py
	$(BIN)/python bench/bench_search.py
	$(BIN)/python bench/bench_scale.py

# Epochs saved by hyperband pruning, and the best val_accuracy it costs: `ablate run` on 2 workers
# (about 2.5 minutes); ARGS="--mode sequential" for trials one after another.
bench-pruning: install
	$(BIN)/python bench/bench_pruning.py $(ARGS)

# gp against random (and tpe, auto) at equal budget on a smooth 3-parameter function, 5 seeds.
bench-samplers: install
	$(BIN)/python bench/bench_samplers.py

# TPE on a conditional space with group=True (what ablate uses), without it, and random; 30 seeds.
bench-conditional: install
	$(BIN)/python bench/bench_conditional.py

# The ablation verdicts' error rates and seeds under adaptive seeds, on 2,000 simulated studies per
# scenario, against fixed designs of the same power (about 8 minutes on 2 cores).
bench-verdicts: install
	$(BIN)/python bench/bench_verdicts.py

# `ablate report` on a 5,000-trial study with the digits space and learning curves (about 4 minutes).
bench-report: install
	$(BIN)/python bench/bench_report.py

# The scheduled studies of prefect.yaml: the local Prefect server, the process work pool `ablate`,
# the deployments, and a worker in the background (pid and log in PREFECT_HOME, like the server's).
deploy: install
	$(BIN)/python -m flows.worker

# Stop the worker `make deploy` started and the Prefect server `make run` or `make deploy` started
# in the background, where this checkout started them (another checkout's server is left running).
# The server keeps its database, the deployments and their schedules.
server-stop:
	-@test ! -x $(BIN)/python || $(BIN)/python -m flows.stop

clean:
	rm -rf data/prepared data/studies data/cache data/.dask reports
