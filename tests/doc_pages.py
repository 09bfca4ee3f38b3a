"""The code blocks of README.md and docs/*.md, read as the doc tests run them.

How a page's blocks are run (read this before adding a block to a page):

- Each page runs in a fresh Jupyter kernel (nbclient) whose working directory is an
  empty temporary directory of its own. Its ```python blocks are the cells of one
  notebook, run in order: magics work, and a block may use what earlier blocks of the
  same page defined and the files they wrote. A block that raises fails the test,
  naming its page and line.
- ```bash blocks run at their place in the order, with ``bash -e`` in that directory
  (``python3`` is the one on ``PATH``, as a user's shell has it); a failing command fails
  the test. ```yaml blocks must parse; ```text blocks are output shown to the reader
  and are not run. Any other language fails the test.
- ``<!-- doc-test: file PATH -->`` on the line right before a block: the block is not
  run but written to PATH (relative to the page's directory; executable when it starts
  with ``#!``), at its place in the order, for later blocks to use.
- ``<!-- doc-test: skip REASON -->``: the block is not run; the test prints the reason.
  Only for what cannot run here (a real Hector binary, a command that installs into the
  environment under test), and the reason says which.
- ``<!-- doc-test: needs MODULE[,MODULE] -->``: the block uses an optional extra; it runs
  when those modules are installed, otherwise it is left out with the reason printed,
  outside CI only (in CI, where every extra is installed, a missing module fails the
  test). Later blocks must not depend on such a block.
- ``<!-- doc-test: after PAGE -->`` anywhere on a page (PAGE relative to the repository,
  e.g. ``docs/plugins.md``): that page's blocks run first, in the same kernel and
  directory, as the setup this page's blocks need. Say so in the page's text too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
MARKER = re.compile(r"^<!--\s*doc-test:\s*(\w+)\s*(.*?)\s*-->\s*$")
AFTER = re.compile(r"^<!--\s*doc-test:\s*after\s+(\S+)\s*-->\s*$", re.M)
LANGUAGES = {"python", "bash", "yaml", "text"}
MARKERS = {"file", "skip", "needs"}


@dataclass
class Block:
    """One fenced code block of a page, with the doc-test marker right above it, if any."""

    page: Path
    language: str
    source: str
    line: int
    marker: str = ""
    argument: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)} line {self.line}"


def page_blocks(page: Path) -> list[Block]:
    """The page's fenced blocks, in order."""
    text = page.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        blocks.append(Block(page, match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1,
                            *(marker.groups() if marker else ())))
    return blocks


def setup_pages(page: Path) -> list[Path]:
    """The pages whose blocks run before ``page``'s (its ``after`` markers, theirs first)."""
    found: list[Path] = []
    for name in AFTER.findall(page.read_text()):
        for needed in [*setup_pages(ROOT / name), ROOT / name]:
            if needed not in found:
                found.append(needed)
    return found


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in page_blocks(page)]


def runnable(block: Block) -> bool:
    """Whether the block takes part in a page's run (run, or written as a file)."""
    return block.language in ("python", "bash") or block.marker == "file"
