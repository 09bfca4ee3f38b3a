"""Run the conformance checks that apply to a target and collect a :class:`CheckReport`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

from ..errors import PluginError
from .base import CHECKS, Check, Outcome, Verdict, failed, skipped
from .context import CALL_TIMEOUT, CheckContext, NotReady
from .report import CheckReport
from .target import Target


def applicable(target: Target) -> list[Check]:
    """The checks for the target's plugin type, in the order they run."""
    from . import database, embedder, lifecycle, llm, process, robustness  # noqa: F401 - registering

    return sorted((c for c in CHECKS if not c.plugin_types or target.plugin_type in c.plugin_types),
                  key=lambda c: c.stage)


def _why_not(check: Check, target: Target) -> str:
    if check.needs_process and target.command is None:
        return (f"runs as a process only; {target.name} runs {target.transport}: load it with --subprocess, "
                "or export it, to check its process")
    if check.capability and not target.capability(check.capability):
        return f"the manifest does not declare the capability {check.capability!r}"
    return ""


def run_check(check: Check, ctx: CheckContext) -> Outcome:
    """One check: its outcome, with a plugin error or a missing prerequisite turned into a verdict, and
    the check's own fix on a warning or failure that names none."""
    reason = _why_not(check, ctx.target)
    if reason:
        return skipped(reason)
    try:
        outcome = check.run(ctx)
    except NotReady as exc:
        return skipped(str(exc))
    except PluginError as exc:
        outcome = failed(exc.message)
    if outcome.verdict in (Verdict.WARN, Verdict.FAIL) and not outcome.fix:
        return dataclasses.replace(outcome, fix=check.fix)
    return outcome


def run(target: Target, only: Iterable[str] | None = None, timeout: float = CALL_TIMEOUT) -> CheckReport:
    """Check ``target``; ``only`` limits the run to the named checks."""
    checks = applicable(target)
    if only is not None:
        wanted = set(only)
        unknown = wanted - {c.name for c in checks}
        if unknown:
            raise PluginError(target.name, "check", f"no check named {', '.join(sorted(unknown))} for this "
                              f"{target.plugin_type}; the checks are {', '.join(c.name for c in checks)}")
        checks = [c for c in checks if c.name in wanted]
    ctx = CheckContext(target, timeout)
    rows = []
    try:
        for check in checks:
            began = time.monotonic()
            outcome = run_check(check, ctx)
            rows.append({"check": check.name, "verdict": Verdict(outcome.verdict).value,
                         "description": check.description, "happened": outcome.happened,
                         "fix": outcome.fix if outcome.verdict in (Verdict.WARN, Verdict.FAIL) else "",
                         "seconds": round(time.monotonic() - began, 3)})
    finally:
        ctx.close()
    return CheckReport.build(target.name, rows, [c.name for c in checks if c.blocks_loading])
