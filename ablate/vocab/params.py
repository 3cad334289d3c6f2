"""The params of a study, as typed, frozen sections: what ``ablate.config.load.load_params``
returns, and what every floor above reads. Each default is written once, on its field."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ablate.errors import ConfigError
from ablate.vocab import knobs
from ablate.vocab.ablation import AblationConfig
from ablate.vocab.direction import Direction
from ablate.vocab.objectives import Constraint, Objectives
from ablate.vocab.url import StorageURL

DEVICES = ("auto", "cpu", "cuda")


TASKS = ("auto", "classification", "regression")


# Data sets scikit-learn ships, and one it generates with fixed arguments (see ablate.data.GENERATED).
BUILTIN_SOURCES = (
    "sklearn:digits",
    "sklearn:wine",
    "sklearn:breast_cancer",
    "sklearn:iris",
    "sklearn:make_classification",
)


DEFAULT_ENTRYPOINT = "ablate.models.mlp:train"


@dataclass(frozen=True)
class StudyConfig(Objectives):
    name: str
    seed: int = 0
    # The objective; with several (study.metric and study.direction as lists), the first: what the
    # single-objective parts read (pruning, the history figure, an ablation's metric).
    metric: str = "val_accuracy"
    direction: Direction = Direction.MAXIMIZE
    # None: a journal file under data/studies/<name>/; else a database every machine reaches.
    storage: StorageURL | None = None
    # The objectives after the first, each with its direction: a Pareto front, no single best.
    other_metrics: tuple[str, ...] = ()
    other_directions: tuple[Direction, ...] = ()
    constraints: tuple[Constraint, ...] = ()  # outcome constraints: feasible trials meet them all

    def __post_init__(self) -> None:
        if len(self.other_metrics) != len(self.other_directions):
            raise ValueError(
                f"other_metrics and other_directions must have equal lengths, but got {self.other_metrics} "
                f"and {self.other_directions}"
            )

    def to_dict(self) -> dict[str, Any]:
        """As a params file would write it: a scalar metric and direction for one objective."""
        d = asdict(self)
        del d["other_metrics"], d["other_directions"]
        d["direction"] = str(self.direction)  # a plain word, as YAML writes it
        if self.multi_objective:
            d["metric"], d["direction"] = list(self.metrics), [str(x) for x in self.directions]
        d["constraints"] = [c.text for c in self.constraints]
        return d


@dataclass(frozen=True)
class DataConfig:
    source: str
    target: str = "target"
    test_size: float = 0.2  # held out; never seen by the search
    val_size: float = 0.2  # of what remains; the search metric is computed on it
    task: str = "auto"  # classification splits are stratified
    # data.sources: (name, source) of each data set, in the order written; () with data.source.
    # Params.datasets gives each its own DataConfig (source set, sources empty).
    sources: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TrialConfig:
    entrypoint: str = DEFAULT_ENTRYPOINT
    options: dict[str, Any] = field(default_factory=dict)  # fixed params, merged under the space's


@dataclass(frozen=True)
class SearchConfig:
    n_trials: int
    space: knobs.Space
    sampler: str = "tpe"  # a name of ablate.samplers.SAMPLERS, or auto
    pruner: str = "none"  # a name of ablate.pruners.PRUNERS
    pruner_options: dict[str, Any] = field(default_factory=dict)  # the pruner's, defaults filled in
    # Configurations (knob values by name) to evaluate first, once per study (ablate.study.baselines).
    enqueue: tuple[dict[str, Any], ...] = ()
    timeout_s: float | None = None  # a run asks no new trial after this many seconds; None: no limit
    seeds: int = 1  # runs per configuration, over seeds study.seed + i; the optimizer is told their mean


@dataclass(frozen=True)
class AdaptConfig:
    """``execution.adapt``: let the cluster grow and shrink its workers with the trials waiting."""

    minimum: int = 0  # workers kept while idle (0: a batch queue holds no job of an idle study)
    maximum: int = 2  # workers at most: trials run at once


@dataclass(frozen=True)
class StragglerRule:
    """A running trial is a straggler when it has not reached a step that at least ``min_peers``
    other trials reached, ``factor`` times their median time to reach it after it started (and at
    least 1 s later than that median). It is flagged in the progress line and in trials.csv; with
    ``stop`` it is also stopped like a timeout (reason ``straggler``)."""

    factor: float = 4.0
    min_peers: int = 3
    stop: bool = False


@dataclass(frozen=True)
class ExecutionConfig:
    workers: int = 2  # trials run at once: Dask worker processes, or GPUs with dask-cuda
    address: str | None = None  # an existing Dask scheduler, e.g. tcp://10.0.0.5:8786
    # "local" (a LocalCluster, or dask-cuda's LocalCUDACluster where GPUs are visible), or the import
    # path of any Dask cluster class, e.g. dask_jobqueue.SLURMCluster, created with cluster_options
    # as its keyword arguments and scaled to `workers` (or by `adapt`).
    cluster: str = "local"
    cluster_options: dict[str, Any] = field(default_factory=dict)
    adapt: AdaptConfig | None = None  # None: a fixed number of workers, `workers`
    gpus_per_worker: int = 0  # jobqueue clusters: GPUs each job requests, one dask-cuda worker per GPU
    # Trials that share one GPU at once (several small models on a big GPU); its worker runs that
    # many at a time. A CUDA out-of-memory error is retried once alone on its GPU, then failed (oom).
    trials_per_gpu: int = 1
    retries: int = 2
    retry_delay_s: float = 1.0  # doubled on each further retry
    trial_timeout_s: float | None = 600.0
    # A trial still running this long after trial_timeout_s (stuck in native code, where the
    # timeout raised in its thread cannot reach it) has its worker process replaced.
    timeout_grace_s: float = 10.0
    queue_ahead: int = 1  # trials queued behind the running one on each worker
    device: str = "auto"
    stragglers: StragglerRule | None = field(default_factory=StragglerRule)  # None: off
    # DVCLive's monitor_system in every trial: its CPU, memory and GPU use as series in its dvclive/.
    monitor_system: bool = False


@dataclass(frozen=True)
class ReportConfig:
    top_trials: int = 20  # rows of the report's trials table, best first (0: all); trials.csv has all


@dataclass(frozen=True)
class PathsConfig:
    data: str = "data"
    reports: str = "reports"


@dataclass(frozen=True)
class Tuning:
    """Where a view of the study is one arm's re-tuning search (``ablation.retune``): its study
    folder, and the input columns its arm lacks (dropped in every trial of the search)."""

    arm: str
    folder: str
    drop_features: tuple[str, ...] = ()

    def trial_fields(self, number: int) -> dict[str, Any]:
        """What a search trial's spec takes from the arm: its columns dropped, its name."""
        return {"drop_features": self.drop_features, "name": f"retune {self.arm}: trial {number}"}


@dataclass(frozen=True)
class Params:
    """A whole study, as written in one params file (plus ``--set`` overrides)."""

    source: str
    study: StudyConfig
    data: DataConfig
    trial: TrialConfig
    search: SearchConfig | None  # None: an ablation study with a given baseline, no search
    execution: ExecutionConfig
    paths: PathsConfig = field(default_factory=PathsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    ablation: AblationConfig | None = None
    dataset: str = ""  # one of data.sources: this study seen on that data set (see datasets)
    tuning: Tuning | None = None  # this study seen as one arm's re-tuning search (ablate.ablation.retune)

    @property
    def datasets(self) -> dict[str, Params]:
        """With ``data.sources``, the study on each data set by name: its ``data`` that source
        alone, its prepared data and ablation trials in a folder of the data set's name. Empty
        with ``data.source``."""
        return {
            name: replace(self, data=replace(self.data, source=source, sources=()), dataset=name)
            for name, source in self.data.sources
        }

    @property
    def search_section(self) -> SearchConfig:
        """The search section, for what only a searched study runs (its session, its fingerprint)."""
        if self.search is None:
            raise ConfigError(self.source, "search", "is required for a search, but it is missing")
        return self.search

    @property
    def ablation_section(self) -> AblationConfig:
        """The ablation section, for what only an ablation study runs."""
        if self.ablation is None:
            raise ConfigError(self.source, "ablation", "is required for an ablation, but it is missing")
        return self.ablation

    @property
    def study_dir(self) -> Path:
        if self.tuning is not None:
            return Path(self.tuning.folder)
        return Path(self.paths.data) / "studies" / self.study.name

    @property
    def ablation_dir(self) -> Path:
        return Path(self.paths.data) / "ablations" / self.study.name / self.dataset

    @property
    def prepared_dir(self) -> Path:
        return Path(self.paths.data) / "prepared" / self.study.name / self.dataset

    @property
    def cache_dir(self) -> Path:
        return Path(self.paths.data) / "cache"

    @property
    def report_dir(self) -> Path:
        return Path(self.paths.reports) / self.study.name

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("dataset")  # not a key of the file: which of data.sources this view is
        d.pop("tuning")  # nor this: which arm's re-tuning search
        if not self.data.sources:
            d["data"].pop("sources")
        else:
            d["data"].pop("source")
            d["data"]["sources"] = dict(self.data.sources)
        d["study"] = self.study.to_dict()
        if self.search is not None:
            d["search"]["space"] = {p.name: _knob_dict(p) for p in self.search.space}
            d["search"]["enqueue"] = [dict(c) for c in self.search.enqueue]
        if self.ablation is not None:
            d["ablation"] = self.ablation.to_dict()
        return d


def _knob_dict(p: knobs.Param) -> dict[str, Any]:
    """A knob as a params file writes it (shorthand expanded; ``when`` only where set)."""
    if isinstance(p, knobs.CategoricalParam):
        out: dict[str, Any] = {"type": "categorical", "choices": list(p.choices)}
    else:
        out = {"type": p.kind, "low": p.low, "high": p.high, "log": p.log}
        out |= {"step": p.step} if p.step is not None else {}
    return out | ({"when": p.when.to_dict()} if p.when is not None else {})
