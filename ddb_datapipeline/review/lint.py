"""cfn-lint on each template, in-process, with the stack's own region.

cfn-lint checks the templates against the CloudFormation resource schemas (including
``AWS::DataPipeline::Pipeline``, which cdk-nag never looks at), so the report carries both views.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import markdown as md

DEFAULT_REGION = "us-east-1"  # what the cfn-lint CLI assumes when none is given


@dataclass(frozen=True)
class LintFinding:
    rule: str
    severity: str
    line: int
    path: str  # e.g. Resources/TableordersTableA85FABEE/Properties/BillingMode
    message: str


@dataclass(frozen=True)
class LintResult:
    version: str  # "" when cfn-lint is not installed
    region: str
    findings: tuple[LintFinding, ...]


@functools.lru_cache(maxsize=1)
def _rules() -> Any:
    """cfn-lint's rules, loaded once (about half a second): they are the same for every template and
    region, as cfn-lint's own CLI uses one set for all the files it is given."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=[DEFAULT_REGION])).rules


# A directory where lint results are kept between processes (unset: results are kept in this process only). The
# tests point it at the machine's cache directory (tests/conftest.py), so the templates that several fixtures, both
# test workers, the review's rebuild and later runs (another clone or worktree of the project included) lint are linted
# once; the product never sets it, so nothing is written next to a cloud assembly.
CACHE_DIR_ENV = "DDB_DATAPIPELINE_LINT_CACHE"
_CACHE_FORMAT = "lint-result-2"  # part of every key, with this module's own source (see _environment)
CACHE_DAYS = 30  # a result nobody read for this long is removed when a new one is written


def installed_version() -> str:
    """cfn-lint's version as its installed distribution states it, "" when it is not installed. Read from the
    package metadata, not from ``cfnlint.version``: importing any module of cfnlint imports the whole package
    (sympy with it, about a second of CPU), which a process that only reads results from the cache (the
    tests' rebuild in a subprocess) then never pays. Same string: cfn-lint's build takes the distribution's
    version from ``cfnlint.version.__version__`` (its pyproject.toml, ``[tool.setuptools.dynamic]``)."""
    try:
        return importlib.metadata.version("cfn-lint")
    except importlib.metadata.PackageNotFoundError:
        return ""


@functools.lru_cache(maxsize=1)
def _environment() -> str:
    """What a result depends on besides the template and the region: the installed versions of cfn-lint and of every
    package it requires (read from their metadata, so nothing is imported), and the source of this module, which
    decides how cfn-lint is run. A result is only ever read back under the same cfn-lint, the same dependencies and the
    same way of calling it; any change among them lints again."""
    versions: dict[str, str] = {}
    pending = ["cfn-lint"]
    while pending:
        name = re.sub(r"[-_.]+", "-", pending.pop()).lower()
        if name in versions:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional dependency, not installed: it cannot change a result
        versions[name] = distribution.version
        pending += [match.group(0) for requirement in distribution.requires or () if "extra ==" not in requirement
                    for match in [re.match(r"[A-Za-z0-9._-]+", requirement)] if match]
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return json.dumps({"format": _CACHE_FORMAT, "packages": versions, "module": source}, sort_keys=True)


@functools.lru_cache(maxsize=32)
def lint_template(template_text: str, region: str | None) -> LintResult:
    """Lints one template; cached on its text, since the same text always gives the same findings."""
    shown_region = region or DEFAULT_REGION
    version = installed_version()
    if not version:  # a runtime-only install (requirements.txt): say so rather than fail
        return LintResult("", shown_region, ())
    cache_dir = os.environ.get(CACHE_DIR_ENV)
    if not cache_dir:
        return _lint(template_text, shown_region, version)
    key = hashlib.sha256("\0".join((_environment(), version, shown_region, template_text)).encode()).hexdigest()
    path = Path(cache_dir) / f"{key}.json"
    try:
        cached = _from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):  # not cached yet, or a torn or foreign file: lint again
        pass
    else:
        with contextlib.suppress(OSError):
            os.utime(path)  # read now: kept CACHE_DAYS from today
        return cached
    result = _lint(template_text, shown_region, version)
    _store(path, result)
    return result


def _store(path: Path, result: LintResult) -> None:
    """Writes one result whole (another process reads all of it or nothing), in a directory only this user can read
    and write, and removes the results nobody read for CACHE_DAYS (each is a few hundred bytes). A directory that
    cannot be written (a read-only home) only means the next run lints again."""
    partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial.write_text(json.dumps(dataclasses.asdict(result)))
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()
        return
    stale = time.time() - CACHE_DAYS * 86400
    for entry in path.parent.glob("*.json"):
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime < stale:
                entry.unlink()


def _from_json(data: dict[str, Any]) -> LintResult:
    return LintResult(str(data["version"]), str(data["region"]), tuple(LintFinding(**finding) for finding in data["findings"]))


def _lint(template_text: str, region: str, version: str) -> LintResult:
    from cfnlint.config import ConfigMixIn
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import run_template_by_data

    template, errors = decode_str(template_text)
    matches = errors or (list(run_template_by_data(template, ConfigMixIn(regions=[region]), _rules())) if template is not None else [])
    findings = {
        LintFinding(
            rule=m.rule.id,
            severity=str(getattr(m.rule, "severity", "")),
            line=int(m.linenumber or 0),
            path="/".join(str(part) for part in getattr(m, "path", None) or []),
            message=str(m.message),
        )
        for m in matches
    }
    return LintResult(version, region, tuple(sorted(findings, key=lambda f: (f.line, f.rule, f.path, f.message))))


def section(result: LintResult, template_file: str, level: int) -> str:
    parts = [md.heading(level, "cfn-lint"), ""]
    if not result.version:
        return "\n".join(parts + [md.warn(True, "cfn-lint is not installed (pip install -r requirements-dev.txt): not run."), ""])
    intro = f"cfn-lint {md.text(result.version)} on {md.code(template_file)}, region {md.code(result.region)}"
    if not result.findings:
        return "\n".join(parts + [f"{intro}: no findings.", ""])
    parts += [f"{intro}: {md.warn(True, f'{len(result.findings)} findings')}.", ""]
    parts.append(md.table(
        ["Rule", "Severity", "Line", "Path", "Message"],
        ([md.code(f.rule), md.text(f.severity), str(f.line), md.code(f.path), md.text(f.message)] for f in result.findings),
    ))
    parts.append("")
    return "\n".join(parts)
