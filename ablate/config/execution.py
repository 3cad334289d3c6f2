"""Reading the params file's ``execution`` section: where and how the trials run (workers, the
Dask cluster, retries, timeouts, GPUs), with one clear line for a value that breaks the rules."""

from __future__ import annotations

from dataclasses import asdict

from ablate._reader import Reader
from ablate.vocab.params import (
    DEVICES,
    AdaptConfig,
    ExecutionConfig,
    StragglerRule,
)


def parse_execution(r: Reader) -> ExecutionConfig:
    cfg = ExecutionConfig(
        workers=r.int("workers", ExecutionConfig.workers, low=1),
        address=r.str(
            "address", None, check=bool, rule="a Dask scheduler address, e.g. tcp://127.0.0.1:8786", allow_none=True
        ),
        cluster=r.str("cluster", ExecutionConfig.cluster, check=_is_cluster, rule=_CLUSTER_RULE),
        cluster_options=dict(r.mapping("cluster_options")),
        adapt=_parse_adapt(r.section("adapt")) if r.raw.get("adapt") is not None else r.get("adapt", None),
        gpus_per_worker=r.int("gpus_per_worker", ExecutionConfig.gpus_per_worker, low=0),
        trials_per_gpu=r.int("trials_per_gpu", ExecutionConfig.trials_per_gpu, low=1),
        retries=r.int("retries", ExecutionConfig.retries, low=0),
        retry_delay_s=r.float("retry_delay_s", ExecutionConfig.retry_delay_s, low=0.0),
        trial_timeout_s=r.float(
            "trial_timeout_s", ExecutionConfig.trial_timeout_s, low=0.0, open_interval=True, allow_none=True
        ),
        timeout_grace_s=r.float("timeout_grace_s", ExecutionConfig.timeout_grace_s, low=0.0),
        queue_ahead=r.int("queue_ahead", ExecutionConfig.queue_ahead, low=0),
        device=r.choice("device", DEVICES, ExecutionConfig.device),
        stragglers=_parse_stragglers(r),
        monitor_system=r.bool("monitor_system", ExecutionConfig.monitor_system),
    )
    r.done()
    _check_cluster_keys(r, cfg)
    return cfg


_CLUSTER_RULE = "local or the import path of a Dask cluster class, e.g. dask_jobqueue.SLURMCluster"


def _is_cluster(s: str) -> bool:
    return s == "local" or (s.count(".") >= 1 and all(p.isidentifier() for p in s.split(".")))


def _parse_stragglers(r: Reader) -> StragglerRule | None:
    if "stragglers" in r.raw and r.raw["stragglers"] in (None, False, "off"):
        r.get("stragglers", None)
        return None
    s = r.section("stragglers")
    rule = StragglerRule(
        factor=s.float("factor", StragglerRule.factor, low=1.0, open_interval=True),
        min_peers=s.int("min_peers", StragglerRule.min_peers, low=1),
        stop=s.bool("stop", StragglerRule.stop),
    )
    s.done()
    return rule


def _parse_adapt(r: Reader) -> AdaptConfig:
    cfg = AdaptConfig(minimum=r.int("minimum", AdaptConfig.minimum, low=0), maximum=r.int("maximum", None, low=1))
    r.done()
    if cfg.minimum > cfg.maximum:
        raise r.error("minimum", f"must be <= maximum ({cfg.maximum})", cfg.minimum)
    return cfg


def _check_cluster_keys(r: Reader, cfg: ExecutionConfig) -> None:
    """Keys that only mean something together: a cluster to start is not an existing scheduler."""
    local = cfg.cluster == "local"
    if cfg.address and not local:
        raise r.error("cluster", "must be local (unset) when execution.address names a running scheduler", cfg.cluster)
    if cfg.address and cfg.adapt is not None:
        raise r.error("adapt", "must be unset when execution.address names a running scheduler", asdict(cfg.adapt))
    if local and cfg.cluster_options:
        raise r.error(
            "cluster_options", "must be empty unless execution.cluster names a cluster class", cfg.cluster_options
        )
    if local and cfg.gpus_per_worker:
        raise r.error(
            "gpus_per_worker",
            "must be 0 unless execution.cluster is a dask_jobqueue class (locally, every visible GPU is used)",
            cfg.gpus_per_worker,
        )
