"""The acceptance run's report, as Markdown for people and as JSON for tools: every run with its outcome, duration,
items compared and verdict; every denied call with its role, resource, error, the permission model's rows for it and
whether the model agreed; what cleanup deleted and what it left."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .run import Result


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_json(result: Result, *, trail_checked: bool) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "environment": result.environment,
        "started": _when(result.started),
        "ended": _when(result.ended),
        "ok": result.ok,
        "interrupted": result.interrupted,
        "runs": [{**asdict(run), "ok": run.ok} for run in result.runs],
        "trail_checked": trail_checked,
        "denied_calls": [{**asdict(d), "rows": [asdict(r) for r in d.rows], "verdict": d.verdict} for d in result.denials],
        "created": result.created,
        "deleted": result.cleaned,
        "left": result.left,
    }


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def as_markdown(result: Result, *, trail_checked: bool) -> str:
    verdict = "PASSED" if result.ok else "FAILED"
    lines = [f"# Acceptance run {result.run_id} of {result.environment}: {verdict}", "",
             f"From {_when(result.started)} to {_when(result.ended)}" + (" (interrupted)" if result.interrupted else "") + ".", "",
             "| run | pipeline | outcome | seconds | items compared | verdict |", "|---|---|---|---:|---:|---|"]
    for run in result.runs:
        lines.append(f"| {_cell(run.label)} | {_cell(run.pipeline or '-')} | {_cell(run.outcome)} | {run.seconds:.0f} | "
                     f"{run.items_compared} | {_cell(run.verdict or run.detail or '-')} |")
    lines += ["", "## Denied calls", ""]
    if not trail_checked:
        lines.append("CloudTrail was not looked up (--no-trail, or the run was interrupted).")
    elif not result.denials:
        lines.append("CloudTrail shows no AccessDenied or KMS error of the project's roles in the run's time window.")
    else:
        lines += ["| time | call | role | resource | error | model rows | verdict |", "|---|---|---|---|---|---|---|"]
        for d in result.denials:
            rows = "; ".join(f"{r.trigger}: {r.step} ({'allowed' if r.allowed else 'denied'})" for r in d.rows) or "-"
            lines.append(f"| {d.time} | {d.call} | {_cell(d.role)} | {_cell(d.resource)} | {_cell(d.error)} | {_cell(rows)} | {d.verdict} |")
    lines += ["", "## Created", ""]
    lines += [f"- {item}" for item in result.created] or ["- nothing"]
    lines += ["", "## Cleanup", ""]
    lines += [f"- deleted {item}" for item in result.cleaned] or ["- nothing to delete"]
    lines += [f"- LEFT: {item}" for item in result.left]
    return "\n".join(lines) + "\n"


def write_reports(result: Result, folder: Path, *, trail_checked: bool) -> tuple[Path, Path]:
    """``acceptance-<run id>.md`` and ``.json`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown = folder / f"acceptance-{result.run_id}.md"
    document = folder / f"acceptance-{result.run_id}.json"
    markdown.write_text(as_markdown(result, trail_checked=trail_checked), encoding="utf-8")
    document.write_text(json.dumps(as_json(result, trail_checked=trail_checked), indent=2) + "\n", encoding="utf-8")
    return markdown, document
