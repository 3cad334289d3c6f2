"""What a run of a study ends with, as typed records: handed from the analyze step to the flow,
and from the flow to the command's last lines (and to a deployment's flow-run result)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ablate.vocab.facts import RunFacts, StudyFacts


@dataclass(frozen=True)
class ReportFiles:
    """The report's files that the steps above it name: the pages, the ablation's markdown and
    paragraph (Prefect artifacts), the Pareto front's table; ``all`` has every file by kind
    (:func:`ablate.report.write.write_report`)."""

    html: Path
    markdown: Path
    ablation_md: Path | None = None
    ablation_paragraph_md: Path | None = None
    pareto_csv: Path | None = None
    all: Mapping[str, Path] = field(default_factory=dict)

    @classmethod
    def of(cls, paths: Mapping[str, Path]) -> ReportFiles:
        return cls(
            html=paths["html"],
            markdown=paths["markdown"],
            ablation_md=paths.get("ablation_md"),
            ablation_paragraph_md=paths.get("ablation_paragraph_md"),
            pareto_csv=paths.get("pareto_csv"),
            all=dict(paths),
        )


@dataclass(frozen=True)
class StudyOutcome:
    """One run of a study: what its steps did (``run``) and, where it ended with a report, the
    study as the report found it and the report's files."""

    run: RunFacts
    report: ReportFiles | None = None
    record: Mapping[str, Any] | None = None  # run.json as the report wrote it (None: no report)

    @property
    def study(self) -> StudyFacts | None:
        """The study as its report found it (read from ``run.json``'s record); None: no report."""
        return StudyFacts.from_record(self.record) if self.record is not None else None

    def to_record(self) -> dict[str, Any]:
        """As JSON (a deployment's flow-run result): ``run.json``'s record, and the report's files
        by kind; the run's facts alone where it wrote no report."""
        out = dict(self.record) if self.record is not None else self.run.to_dict()
        if self.report is not None:
            out["report"] = {kind: str(path) for kind, path in self.report.all.items()}
        return out
