"""What a conformance check is: a small named unit with a verdict, and the registry of them.

A check is a function ``run(ctx) -> Outcome`` registered with :func:`check`,
which records its name, what it checks, the plugin types and capability it
needs, and the fix for its fault. The runner calls it, times it, and turns a
``PluginError`` it raises into a ``fail`` carrying that fix, so most checks
read as "call the plugin, compare with what Hector needs".
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..plugin.constants import TextEnum

if TYPE_CHECKING:
    from .context import CheckContext


class Verdict(TextEnum):
    """How a check came out. A ``str``, so ``Verdict.PASS == "pass"``."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Outcome:
    """What one check found: its verdict, what happened, and what to do about it."""

    verdict: Verdict
    happened: str
    fix: str = ""


def passed(happened: str) -> Outcome:
    return Outcome(Verdict.PASS, happened)


def warned(happened: str, fix: str = "") -> Outcome:
    """A warning; without ``fix`` the runner gives it the check's own (the one :func:`check` registered)."""
    return Outcome(Verdict.WARN, happened, fix)


def failed(happened: str, fix: str = "") -> Outcome:
    """A failure; without ``fix`` the runner gives it the check's own (the one :func:`check` registered)."""
    return Outcome(Verdict.FAIL, happened, fix)


def skipped(reason: str) -> Outcome:
    return Outcome(Verdict.SKIP, reason)


class Stage(enum.IntEnum):
    """When a check runs: process checks first, the plugin's Shutdown last."""

    PROCESS = 0
    LIFECYCLE = 1
    PROVIDER = 2
    ROBUSTNESS = 3
    FINAL = 4


@dataclass(frozen=True)
class Check:
    """One conformance check.

    ``plugin_types`` empty means every type; ``capability`` names a manifest
    capability the check needs (skipped when the plugin does not declare it);
    ``needs_process`` checks run only for plugins started as processes;
    ``blocks_loading`` says that failing it keeps Hector from loading the
    plugin at all; ``fix`` is how to repair the fault the check looks for, given with every
    warning or failure that names no fix of its own.
    """

    name: str
    description: str
    run: Callable[[CheckContext], Outcome]
    stage: Stage
    fix: str
    plugin_types: tuple[str, ...] = ()
    capability: str | None = None
    needs_process: bool = False
    blocks_loading: bool = False


#: Every registered check, in registration order (the runner orders them by stage).
CHECKS: list[Check] = []


def check(name: str, description: str, *, stage: Stage, fix: str, plugin_types: tuple[str, ...] = (),
          capability: str | None = None, needs_process: bool = False, blocks_loading: bool = False
          ) -> Callable[[Callable[[CheckContext], Outcome]], Callable[[CheckContext], Outcome]]:
    """Register ``run(ctx) -> Outcome`` as the check ``name``."""

    def register(run: Callable[[CheckContext], Outcome]) -> Callable[[CheckContext], Outcome]:
        if any(existing.name == name for existing in CHECKS):
            raise ValueError(f"a conformance check named {name!r} exists already")
        CHECKS.append(Check(name, description, run, stage, fix, plugin_types, capability, needs_process,
                            blocks_loading))
        return run

    return register
