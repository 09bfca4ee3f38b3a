"""``requirements.txt`` of an export directory: read, merged and written with ``packaging``.

Several plugins may be exported into one directory (Hector's ``./plugins``), and
they share its ``requirements.txt``: each export merges what its plugin needs
into the file instead of replacing it. Two requirements on one project merge
when they agree (the same version specifiers, or one without any); when they
disagree the export is refused rather than silently keeping either.
"""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .errors import ExportError


def parse_requirement(text: str, plugin: str, origin: str) -> Requirement:
    """``text`` as a requirement, or :class:`ExportError` naming where it came from."""
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise ExportError(plugin, "export", f"{origin} {text!r} is not a requirement pip reads ({exc}); "
                          "write it as NAME, NAME>=VERSION or NAME[extra]==VERSION") from None


def read_requirements(file: Path, plugin: str) -> list[Requirement]:
    """The requirements a ``requirements.txt`` lists (comments and blank lines skipped)."""
    if not file.is_file():
        return []
    found = []
    for number, line in enumerate(file.read_text().splitlines(), 1):
        text = line.split(" #", 1)[0].strip()
        if text and not text.startswith("#"):
            found.append(parse_requirement(text, plugin, f"{file.name} line {number} of {file.parent}:"))
    return found


def _merge_one(known: Requirement, new: Requirement, plugin: str) -> Requirement:
    if known.url != new.url or known.marker != new.marker or (
            known.specifier and new.specifier and known.specifier != new.specifier):
        raise ExportError(plugin, "export", f"requirements conflict: {known} (already required) and {new}; "
                          "export into another directory, or pass one agreeing --requirement")
    merged = Requirement(str(new if new.specifier and not known.specifier else known))
    merged.extras = known.extras | new.extras
    return merged


def merge_requirements(groups: list[list[Requirement]], plugin: str) -> list[Requirement]:
    """One requirement per project, in order of first mention; :class:`ExportError` on a conflict."""
    merged: dict[str, Requirement] = {}
    for group in groups:
        for requirement in group:
            key = canonicalize_name(requirement.name)
            merged[key] = _merge_one(merged[key], requirement, plugin) if key in merged else requirement
    return list(merged.values())


def requirements_text(requirements: list[Requirement]) -> str:
    """The lines of a ``requirements.txt``."""
    return "".join(f"{requirement}\n" for requirement in requirements)
