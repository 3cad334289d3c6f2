"""Which batch jobs ended before their worker reached the scheduler, and when a run stops asking
for more (the same watch runs against a real Slurm in tests/flows/test_slurm_study.py)."""

from __future__ import annotations

from ablate.runtime.jobqueue import JobStarts


def test_a_job_gone_from_the_queue_without_its_worker_counts_once_and_a_joined_one_never() -> None:
    starts = JobStarts(in_a_row=2)
    jobs = {"SLURMCluster-0": "7", "SLURMCluster-1": "8"}
    starts.see_workers(jobs, {"SLURMCluster-1"})
    assert starts.ended_before_joining(jobs, queued={"8"}) == {"SLURMCluster-0": "7"}
    assert starts.ended_before_joining(jobs, queued={"8"}) == {}  # counted once
    assert starts.ended_before_joining(jobs, queued=set()) == {}  # 8's worker joined: a lost job, Dask's
    assert not starts.given_up


def test_jobs_failing_in_a_row_give_up_and_a_worker_joining_between_them_resets_the_count() -> None:
    starts = JobStarts(in_a_row=2)
    assert starts.ended_before_joining({"c-0": "1"}, queued={"2"}) == {"c-0": "1"}
    # The replacement takes the failed job's name; a worker of a job of several processes is <name>-<i>.
    starts.see_workers({"c-0": "3", "c-1": "2"}, {"c-1-0", "c-1-1"})
    assert starts.failed == [] and starts.joined == {"2"}
    assert starts.ended_before_joining({"c-0": "3"}, queued={"2"}) == {"c-0": "3"}
    assert not starts.given_up
    assert starts.ended_before_joining({"c-0": "10"}, queued={"2"}) == {"c-0": "10"}
    assert starts.given_up
    assert starts.reason().startswith("cluster: batch jobs 3, 10 ended before their workers reached the scheduler")


def test_a_job_name_that_only_begins_like_another_is_not_its_worker() -> None:
    starts = JobStarts(in_a_row=2)
    starts.see_workers({"c-1": "5"}, {"c-10"})
    assert starts.joined == set()


def test_a_job_that_ended_stays_settled_after_a_worker_joins_and_is_never_counted_again() -> None:
    starts = JobStarts(in_a_row=2)
    assert starts.ended_before_joining({"c-0": "4", "c-1": "5"}, queued={"5"}) == {"c-0": "4"}
    starts.see_workers({"c-0": "4", "c-1": "5"}, {"c-1"})  # the other job's worker joins: the count restarts
    assert starts.failed == [] and starts.settled == {"4", "5"}
    assert starts.ended_before_joining({"c-0": "4", "c-1": "5"}, queued=set()) == {}
