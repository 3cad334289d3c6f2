"""Unit tests for ablate.report on tiny synthetic trial frames."""

from __future__ import annotations

import dataclasses
import json
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ablate.report import write as report_write
from ablate.report.figures import plot_history
from ablate.report.html import render_html
from ablate.report.markdown import render_markdown
from ablate.report.model import ParamInfo, ReportInput, capped_trials
from ablate.report.params_figure import plot_param_effects
from ablate.report.write import write_report
from ablate.study.table import best_trial
from ablate.vocab.facts import RunFacts, SearchFacts

PARAMS = (
    ParamInfo("lr", "float", log=True),
    ParamInfo("hidden", "int"),
    ParamInfo("activation", "categorical"),
    ParamInfo("dropout", "float"),
)
RUN = RunFacts(search=SearchFacts(executed=5, cached=1, wall_s=10.25), wall_s=12.5)
STUDY_FACTS = {"complete": 3, "pruned": 1, "failed": 2, "best": {"number": 2}}
ERROR = "Traceback (most recent call last):\n  File x\nRuntimeError: CUDA out of memory | 2 GiB"


def make_trials() -> pd.DataFrame:
    """Six trials, shuffled: 3 complete (best is #2 when maximizing, #4 when minimizing)."""
    rows = [
        (3, "FAIL", np.nan, np.nan, 0.1, 32, "relu", 0.1, 1.0, "w1", ERROR),
        (0, "COMPLETE", 0.80, 0.5, 1e-3, 64, "relu", 0.2, 2.0, "w0", ""),
        (2, "COMPLETE", 0.912345678, 0.3, 3e-3, 128, "tanh", 0.0, 3.0, "w1", ""),
        (5, "PRUNED", np.nan, np.nan, 1e-4, 32, "gelu", 0.3, 0.5, "w0", ""),
        (4, "COMPLETE", 0.70, 0.9, 5e-2, np.nan, "gelu", 0.4, 4.0, "w0", ""),
        (1, "FAIL", 0.99, np.nan, 2e-2, 256, "tanh", 0.1, 0.2, "w1", "ValueError: boom"),
    ]
    cols = [
        "number",
        "state",
        "val_accuracy",
        "val_loss",
        "lr",
        "hidden",
        "activation",
        "dropout",
        "duration_s",
        "worker",
        "error",
    ]
    return pd.DataFrame(rows, columns=cols)


def make_input(
    trials: pd.DataFrame | None = None, direction: str = "maximize", metric: str = "val_accuracy", **kw: object
) -> ReportInput:
    frame = make_trials() if trials is None else trials
    return ReportInput(
        study="digits",
        metric=metric,
        direction=direction,
        trials=frame,
        params=kw.pop("params", PARAMS),
        run=kw.pop("run", RUN),
        study_facts=kw.pop("study_facts", STUDY_FACTS),
        **kw,
    )


def all_failed() -> pd.DataFrame:
    frame = make_trials()
    frame["state"] = "FAIL"
    frame["error"] = "ValueError: boom"
    return frame


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (signature, then the IHDR chunk)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --------------------------------------------------------------------------------- best_trial


def test_best_trial_follows_direction_and_skips_failed() -> None:
    trials = make_trials()  # trial 1 FAILED with the highest value: it must not win
    assert best_trial(trials, "val_accuracy", "maximize")["number"] == 2
    assert best_trial(trials, "val_accuracy", "minimize")["number"] == 4
    assert best_trial(trials, "val_loss", "minimize")["number"] == 2


def test_best_trial_none_without_complete_trials() -> None:
    assert best_trial(all_failed(), "val_accuracy", "maximize") is None
    assert best_trial(make_trials().iloc[0:0], "val_accuracy", "maximize") is None


def test_best_trial_ignores_complete_without_value_and_ties_go_to_lowest_number() -> None:
    trials = make_trials()
    trials.loc[trials["number"] == 2, "val_accuracy"] = np.nan
    trials.loc[trials["number"] == 4, "val_accuracy"] = 0.80  # ties with trial 0
    assert best_trial(trials, "val_accuracy", "maximize")["number"] == 0


def test_best_trial_rejects_unknown_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        best_trial(make_trials(), "val_accuracy", "max")


# --------------------------------------------------------------------------------- figures


def test_plot_history_has_labels_legend_and_best_annotation() -> None:
    fig = plot_history(make_trials(), "val_accuracy", "maximize")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "val_accuracy" and ax.get_xlabel() == "trial number"
    assert "val_accuracy" in ax.get_title()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"complete (3)", "best so far", "best (#2)", "failed (2)", "pruned (1)"} <= set(labels)
    assert any(t.get_text().startswith("#2: 0.9123") for t in ax.texts)


def test_plot_history_best_so_far_is_monotone_for_minimize() -> None:
    fig = plot_history(make_trials(), "val_accuracy", "minimize")
    step = next(line for line in fig.axes[0].lines if line.get_label() == "best so far")
    y = np.asarray(step.get_ydata(), dtype=float)
    assert list(y) == sorted(y, reverse=True) and y[-1] == pytest.approx(0.70)


def test_plot_history_says_no_trial_completed() -> None:
    fig = plot_history(all_failed(), "val_accuracy", "maximize")
    assert any("no trial completed" in t.get_text() for t in fig.axes[0].texts)


def test_plot_param_effects_scales_ticks_and_best() -> None:
    fig = plot_param_effects(make_trials(), "val_accuracy", PARAMS, "maximize")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4
    lr, hidden, activation, _ = visible
    assert lr.get_xscale() == "log" and hidden.get_xscale() == "linear"
    assert [t.get_text() for t in activation.get_xticklabels()] == ["gelu", "relu", "tanh"]
    assert lr.get_xlabel() == "lr (log)" and hidden.get_xlabel() == "hidden"
    # Only COMPLETE trials are drawn: 3 points in the lr subplot.
    assert len(lr.lines[0].get_xdata()) == 3
    best = [t.get_text() for ax in visible for t in ax.texts]
    assert best.count("#2") == 4


def test_plot_param_effects_wraps_at_three_columns() -> None:
    trials = make_trials()
    params = tuple(ParamInfo(f"p{i}", "float") for i in range(8))
    for i in range(8):
        trials[f"p{i}"] = np.linspace(0, 1, len(trials)) + i
    fig = plot_param_effects(trials, "val_accuracy", params, "maximize")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 8
    geometry = {ax.get_subplotspec().get_geometry()[:2] for ax in visible}
    assert geometry == {(3, 3)}


def conditional_trials() -> pd.DataFrame:
    """As trials_frame gives a conditional space: momentum (sgd only) and residual (deep only)
    are None where inactive, in object columns; the best trial (#2, adam, shallow) has neither;
    trial 1 was enqueued, and each trial is the mean of 3 seeds."""
    rows = [
        (0, "COMPLETE", 0.80, 0.01, "sgd", 0.9, 3, True),
        (1, "COMPLETE", 0.85, 0.02, "sgd", 0.5, 1, None),
        (2, "COMPLETE", 0.95, 0.004, "adam", None, 1, None),
        (3, "FAIL", np.nan, np.nan, "sgd", 0.7, 2, False),
        (4, "COMPLETE", 0.70, 0.03, "adam", None, 2, False),
    ]
    frame = pd.DataFrame(
        rows, columns=["number", "state", "val_accuracy", "val_accuracy_std", "opt", "m", "layers", "res"]
    )
    for col in ("m", "res"):
        frame[col] = pd.Series([r[frame.columns.get_loc(col)] for r in rows], dtype=object)
    frame["enqueued"] = [False, True, False, False, False]
    frame["n_seeds"] = 3
    frame["duration_s"], frame["worker"], frame["error"] = 1.0, "w0", ""
    return frame


CONDITIONAL_PARAMS = (
    ParamInfo("opt", "categorical"),
    ParamInfo("m", "float"),
    ParamInfo("layers", "int"),
    ParamInfo("res", "categorical"),
)


def test_plot_param_effects_draws_each_knob_where_it_was_active() -> None:
    fig = plot_param_effects(conditional_trials(), "val_accuracy", CONDITIONAL_PARAMS, "maximize")
    opt, m, layers, res = [ax for ax in fig.axes if ax.get_visible()]
    assert len(m.lines[0].get_xdata()) == 2  # complete trials with a momentum: 0 and 1
    assert [t.get_text() for t in res.get_xticklabels()] == ["False", "True"]  # no "None" choice
    # the best trial (#2) is starred where it has a value, and nowhere else
    assert [bool(ax.texts) for ax in (opt, m, layers, res)] == [True, False, True, False]


def test_report_of_a_conditional_seeded_study_with_a_baseline(tmp_path: Path) -> None:
    inp = make_input(conditional_trials(), params=CONDITIONAL_PARAMS)
    md = render_markdown(inp, [])
    assert "Trial **2**: val_accuracy = **0.95** ± 0.004 (mean ± std of 3 seeds)" in md
    header = next(ln for ln in md.splitlines() if ln.startswith("| number"))
    assert header == (
        "| number | state | val_accuracy | val_accuracy_std | opt | m | layers | res | enqueued | n_seeds | "
        "duration_s | worker | error |"
    )
    row = next(ln for ln in md.splitlines() if ln.startswith("| 2 |"))
    assert [c.strip() for c in row.split("|")[6:10]] == ["", "1", "", ""]  # m and res empty, not "None" or "nan"
    assert next(ln for ln in md.splitlines() if ln.startswith("| 1 |")).split("|")[9] == " yes "
    assert "(mean ± std of 3 seeds)" in render_html(inp, [])
    paths = write_report(tmp_path / "r", inp)
    assert paths["params"].is_file()
    # a plain study shows neither column, nor a note beside its best value
    plain = render_markdown(make_input(), [])
    assert "enqueued" not in plain and "n_seeds" not in plain and "±" not in plain


def test_no_pyplot_and_no_prefect_imported() -> None:
    code = (
        "import sys, ablate.report.write; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot'; "
        "assert 'prefect' not in sys.modules, 'prefect'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------- markdown/html


def test_markdown_has_best_trial_summary_and_rounded_floats() -> None:
    md = render_markdown(make_input(), ["history.png", "params.png"])
    assert "# Study `digits`" in md
    assert "Trial **2**: val_accuracy = **0.9123**" in md
    assert "0.912345678" not in md  # 4 significant digits in tables
    assert "6 trials: 3 complete, 1 pruned, 2 failed" in md
    assert "last search: 5 executed, 1 from the cache" in md
    assert "| hidden | 128 |" in md  # int param, not 128.0
    assert "![history](history.png)" in md and "![params](params.png)" in md


def test_a_best_trial_that_ties_others_says_so_and_counts_its_examples() -> None:
    """digits: 7 trials at 0.9688, 279 of 288 validation images; the report names the tie."""
    trials = make_trials()
    trials.loc[trials["number"].isin([0, 2, 4]), "val_accuracy"] = 279 / 288
    md = render_markdown(make_input(trials, val_size=288), [])
    best = "Trial **0**: val_accuracy = **0.9688** (279 of 288 validation examples; tied with 2 other trials (2, 4)"
    assert best in md
    assert "the lowest number is shown" in md and "tied with" in render_html(make_input(trials, val_size=288), [])
    alone = render_markdown(make_input(val_size=288), [])
    assert "tied" not in alone and "(263 of 288 validation examples)" in alone  # 0.9123 of 288
    assert "validation examples" not in render_markdown(make_input(trials, metric="val_loss"), [])


def test_markdown_trials_table_best_first_failed_last() -> None:
    md = render_markdown(make_input(), [])
    rows = [
        ln for ln in md.splitlines() if ln.startswith("| ") and ln.split("|")[1].strip().isdigit() and ln.count("|") > 5
    ]
    assert [int(r.split("|")[1]) for r in rows] == [2, 0, 4, 5, 1, 3]
    md_min = render_markdown(make_input(direction="minimize"), [])
    rows = [
        ln
        for ln in md_min.splitlines()
        if ln.startswith("| ") and ln.count("|") > 5 and ln.split("|")[1].strip().isdigit()
    ]
    assert [int(r.split("|")[1]) for r in rows] == [4, 0, 2, 5, 1, 3]


def test_a_size_limited_table_holds_the_best_trials_and_says_so() -> None:
    inp = make_input()
    rows, note = capped_trials(inp, rows=6)
    assert rows is inp.trials and note == ""
    rows, note = capped_trials(inp, rows=3)
    assert list(rows["number"]) == [2, 0, 4]  # the complete ones, best first
    assert note == "the best 3 of 6, best first (trials.csv has every trial)"


def test_markdown_lists_failed_trials_with_errors() -> None:
    md = render_markdown(make_input(), [])
    assert "## Failed trials" in md
    assert "ValueError: boom" in md
    assert "RuntimeError: CUDA out of memory \\| 2 GiB" in md  # escaped inside the table
    assert "Traceback (most recent call last):" in md  # full tail in the failures section


def test_failed_trials_show_their_reason() -> None:
    frame = make_trials()
    frame["reason"] = np.where(frame["state"] == "FAIL", np.where(frame["number"] == 3, "oom", "error"), "")
    md = render_markdown(make_input(frame), [])
    header = next(ln for ln in md.splitlines() if ln.startswith("| number |"))
    assert header.endswith("| duration_s | worker | reason | error |")
    assert "### Trial 1 (FAIL, reason error; worker w1)" in md
    assert "### Trial 3 (FAIL, reason oom; worker w1)" in md


def test_markdown_groups_identical_errors() -> None:
    md = render_markdown(make_input(all_failed()), [])
    assert md.count("ValueError: boom") == 6 + 1  # one per table row, one grouped section
    assert "6 trials: 0, 1, 2, 3, 4, 5" in md


def test_markdown_provenance_table_only_when_given() -> None:
    assert "## Provenance" not in render_markdown(make_input(), [])
    md = render_markdown(make_input(provenance={"data_sha256": "abc123", "versions": {"a": 1}}), [])
    assert "| data_sha256 | abc123 |" in md
    assert '| versions | {"a": 1} |' in md


def test_html_is_self_contained_and_references_images() -> None:
    page = render_html(make_input(provenance={"torch": "2.5"}), ["history.png", "params.png"])
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert 'src="history.png"' in page and 'src="params.png"' in page
    assert "http://" not in page and "https://" not in page and "<script" not in page.lower()
    assert "<strong>2</strong>" in page and "0.9123" in page
    assert "ValueError: boom" in page and "torch" in page


def test_html_escapes_text() -> None:
    trials = make_trials()
    trials.loc[trials["number"] == 1, "error"] = "bad <tag> & stuff"
    page = render_html(make_input(trials), [])
    assert "bad &lt;tag&gt; &amp; stuff" in page and "<tag>" not in page


# --------------------------------------------------------------------------------- write_report


def test_write_report_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "digits"
    paths = write_report(out, make_input())
    figures = ("history", "params", "parallel", "curves", "importance")
    assert set(paths) == {"csv", "curves_csv", "json", "metrics", "markdown", "html", *figures}
    assert all(p.parent == out and p.is_file() and p.stat().st_size > 0 for p in paths.values())
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            ".figures",
            "trials.csv",
            "curves.csv",
            "run.json",
            "metrics.json",
            "report.md",
            "index.html",
            *(f + ".png" for f in figures),
        ]
    )
    # The learning curves as dvc.yaml's plot reads them: a row a (trial, step), the metric by name.
    assert list(pd.read_csv(out / "curves.csv").columns) == ["trial", "step", "val_accuracy"]  # none reported
    steps = pd.DataFrame({"number": [0, 0, 1], "step": [1, 2, 1], "value": [0.5, 0.75, 0.25]})
    write_report(out, dataclasses.replace(make_input(), curves=steps))
    curves = pd.read_csv(out / "curves.csv")
    assert curves.to_numpy().tolist() == [[0, 1, 0.5], [0, 2, 0.75], [1, 1, 0.25]]
    metrics = json.loads((out / "metrics.json").read_text())
    best = best_trial(make_input().trials, "val_accuracy", "maximize")
    assert metrics["best_trial"] == int(best["number"]) and metrics["best_value"] == float(best["val_accuracy"])


def test_write_report_csv_and_json(tmp_path: Path) -> None:
    inp = make_input()
    paths = write_report(tmp_path / "r", inp)
    csv = pd.read_csv(paths["csv"], keep_default_na=False, na_values=[""])
    assert list(csv.columns) == list(inp.trials.columns)
    assert len(csv) == 6 and list(csv["number"]) == [0, 1, 2, 3, 4, 5]
    assert csv.loc[csv["number"] == 2, "val_accuracy"].item() == pytest.approx(0.912345678)
    text = paths["json"].read_text()
    record = {**RUN.to_dict(), **STUDY_FACTS, "report_options": {"top_trials": inp.top_trials}}
    assert json.loads(text) == record and record["executed"] == 5 and record["search_wall_s"] == 10.25
    assert text == json.dumps(record, indent=2, sort_keys=True) + "\n"


def test_write_report_png_sizes(tmp_path: Path) -> None:
    paths = write_report(tmp_path / "r", make_input())
    assert png_size(paths["history"]) == (9 * 120, round(4.8 * 120))
    # 4 params: 3 columns x 2 rows, 10 x (3.3 * 2 + 0.7) inches at 120 dpi.
    assert png_size(paths["params"]) == (1200, 876)
    one = write_report(tmp_path / "one", make_input(params=(PARAMS[0],)))
    assert png_size(one["params"]) == (960, 480)


def test_write_report_markdown_and_html_agree_on_images(tmp_path: Path) -> None:
    paths = write_report(tmp_path / "r", make_input())
    md, page = paths["markdown"].read_text(), paths["html"].read_text()
    for name in ("history.png", "params.png"):
        assert f"]({name})" in md and f'src="{name}"' in page


@pytest.mark.parametrize("trials", [all_failed(), make_trials().iloc[0:0]], ids=["failed", "empty"])
def test_write_report_without_complete_trials(tmp_path: Path, trials: pd.DataFrame) -> None:
    paths = write_report(tmp_path / "r", make_input(trials, run=RunFacts()))
    # params.png is still written (dvc.yaml declares it), a small figure that says why it is empty.
    assert png_size(paths["params"]) == (960, 360)
    assert png_size(paths["history"]) == (1080, 576)
    assert "No trial completed" in paths["markdown"].read_text()
    assert "No trial completed" in paths["html"].read_text()


def test_write_report_without_params_writes_a_placeholder_params_png(tmp_path: Path) -> None:
    paths = write_report(tmp_path / "r", make_input(params=()))
    assert png_size(paths["params"]) == (960, 360) and paths["history"].is_file()


def test_write_report_replaces_whole_folder_and_leaves_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "digits"
    write_report(out, make_input())
    drawn = (out / "params.png").read_bytes()
    (out / "stale.txt").write_text("from an older report")
    write_report(out, make_input(all_failed()))
    assert not (out / "stale.txt").exists() and (out / "params.png").read_bytes() != drawn
    assert [p.name for p in tmp_path.iterdir()] == ["digits"]


def test_write_report_crash_keeps_previous_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "digits"
    write_report(out, make_input())
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*_: object) -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(report_write, "render_html", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_report(out, make_input(all_failed()))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["digits"]


def test_the_table_shows_the_best_top_trials_and_says_so(tmp_path: Path) -> None:
    inp = dataclasses.replace(make_input(), top_trials=2)
    md = render_markdown(inp, [])
    best = best_trial(inp.trials, "val_accuracy", "maximize")
    section = md.split("## Trials", 1)[1].split("\n\n")[1].splitlines()
    rows = section[2:]  # after the header and the separator
    assert len(rows) == 2 and rows[0].startswith(f"| {int(best['number'])} |")
    assert f"The best 2 of {len(inp.trials)} trials; trials.csv has every trial." in md
    assert "The best 2 of" in render_html(inp, [])


def test_figures_are_kept_when_the_trials_are_unchanged_and_redrawn_when_they_change(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "digits"
    inp = make_input()
    write_report(out, inp)
    drawn = (out / "history.png").stat().st_mtime_ns
    time.sleep(0.01)
    write_report(out, dataclasses.replace(inp, run=inp.run.replace(search=SearchFacts(executed=0))))  # same trials
    assert (out / "history.png").stat().st_mtime_ns == drawn  # copied, not drawn again
    changed = inp.trials.copy()
    changed.loc[0, "val_accuracy"] = 0.5
    write_report(out, dataclasses.replace(inp, trials=changed))
    assert (out / "history.png").stat().st_mtime_ns != drawn
