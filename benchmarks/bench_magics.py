#!/usr/bin/env python3
"""A big prompt through the magics, beside the same prompt through the Python API in the same run.

``%hector generate NAME "..."`` and a ``%%hector generate NAME`` cell fill in ``{var}`` and
split the line themselves, in one pass over the text (IPython's formatter and ``shlex``
took 99 s for a 100 k-character cell and minutes for 2 MB on a line). The floor is
``session().get(NAME).generate(prompt)`` on the in-kernel echo; the magic adds IPython's
own work on the cell (its input transformation and compiling the line) and ours.
The target, at most 10 times the floor, is for the 2 MB prompt: at 100 k characters
both take milliseconds and IPython's fixed cost per cell dominates the ratio.
Usage: ``python benchmarks/bench_magics.py``.
"""

from __future__ import annotations

import timeit

from IPython.testing.globalipapp import start_ipython

import hector_nb

SENTENCE = "the quick brown fox jumps over 42 lazy dogs, then naps. "
TARGET_RATIO = 10.0
TARGET_SIZE = 2_000_000


def best_of(runs: int, action) -> float:
    """The fastest of ``runs`` runs of ``action``, in seconds."""
    return min(timeit.repeat(action, number=1, repeat=runs))


def measure(shell, echo, size: int) -> tuple[int, float, float, float]:
    """The prompt's length, then seconds: the API's floor, the line magic, the cell magic."""
    text = SENTENCE * (size // len(SENTENCE)) + "{who}"
    expected = text.replace("{who}", "Ada")

    def run(cell: str) -> None:
        result = shell.run_cell(cell, store_history=False)
        assert result.success and shell.user_ns["answer"].text == expected, result.error_in_exec

    floor = best_of(3, lambda: echo.generate(expected))
    line = best_of(3, lambda: run(f'%hector generate echo "{text}" --no-stream --out answer'))
    cell = best_of(3, lambda: run(f"%%hector generate echo --no-stream --out answer\n{text}"))
    return len(text), floor, line, cell


def main() -> None:
    shell = start_ipython()
    shell.run_line_magic("load_ext", "hector_nb")
    shell.run_line_magic("hector", "load builtin:echo")
    echo = hector_nb.session().get("echo")
    shell.user_ns["who"] = "Ada"
    print(f"{'prompt':>12}{'API s':>9}{'line s':>9}{'ratio':>7}{'cell s':>9}{'ratio':>7}")
    for size in (100_000, 2_000_000):
        length, floor, line, cell = measure(shell, echo, size)
        flag = "" if size < TARGET_SIZE or max(line, cell) / floor <= TARGET_RATIO else f"  OVER {TARGET_RATIO:g}x"
        print(f"{length:>12,}{floor:9.3f}{line:9.3f}{line / floor:7.1f}{cell:9.3f}{cell / floor:7.1f}{flag}")


if __name__ == "__main__":
    main()
