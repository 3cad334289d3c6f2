"""The progress line's ETA."""

from __future__ import annotations

from ablate.runtime.progress import ETA_WINDOW, Progress


def test_the_eta_follows_the_latest_trials_durations() -> None:
    # Trials that take 10 s early and 1 s late (say, once the pruner stops most): the ETA of the
    # rest is the late trials' pace, and stays cheap however many trials came before.
    progress = Progress(total=2 * ETA_WINDOW + 100, metric="loss", direction="minimize", workers=2)
    for i in range(ETA_WINDOW):
        progress.finished(f"trial {i}", "COMPLETE", 1.0, 10.0, 2)
    assert progress.eta(2) == f"{(ETA_WINDOW + 100) * 10 // 2 // 60}m{(ETA_WINDOW + 100) * 10 // 2 % 60:02d}s"
    for i in range(ETA_WINDOW):
        line = progress.finished(f"trial {ETA_WINDOW + i}", "COMPLETE", 1.0, 1.0, 2)
    assert len(progress.durations) == ETA_WINDOW
    assert progress.eta(2) == "50s" and "50s" in line  # 100 trials left at 1 s on 2 workers
