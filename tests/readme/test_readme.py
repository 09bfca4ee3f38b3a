"""Every code block of the README runs as written, in order, in a fresh kernel.

How the README's blocks are run (read this before adding a section to the README):

- Every ```python block is a cell of one notebook, run in order in a fresh Jupyter
  kernel (nbclient) whose working directory is an empty temporary directory. Magics
  work; a block may use what earlier blocks defined and the files they wrote. A
  block that raises fails this test, naming its line in the README.
- A block right after a line ``<!-- readme-test: file PATH -->`` is not run: it is
  written to PATH (relative to that directory; executable when it starts with ``#!``),
  at its place in the order, for later blocks to use.
- A block right after ``<!-- readme-test: skip REASON -->`` is left out; the reason
  is printed. Use it only for what cannot run here, and say why.
- A block right after ``<!-- readme-test: needs MODULE[,MODULE] -->`` uses an optional
  extra: it runs when those modules are installed; otherwise it is left out with the
  reason printed, outside CI only (in CI, where every extra is installed, a missing
  module fails the test). Later blocks must not depend on such a block.
- ```bash blocks must pass ``bash -n``, and every ``python3 -m hector_nb COMMAND``
  they show must be a command that exists. ```yaml blocks must parse.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from extras import extras_required, missing_modules
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
MARKER = re.compile(r"<!--\s*readme-test:\s*(\w+)\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    language: str
    source: str
    line: int
    marker: str = ""
    argument: str = ""


def readme_blocks() -> list[Block]:
    text = README.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        blocks.append(Block(match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1,
                            *(marker.groups() if marker else ())))
    return blocks


def as_cell(block: Block):
    if block.marker == "file":
        return new_code_cell(
            "from pathlib import Path\n"
            f"_path = Path({block.argument!r})\n"
            "_path.parent.mkdir(parents=True, exist_ok=True)\n"
            f"_path.write_text({block.source!r})\n"
            + ("_path.chmod(0o755)\n" if block.source.startswith("#!") else ""),
            metadata={"readme_line": block.line})
    return new_code_cell(block.source.rstrip("\n"), metadata={"readme_line": block.line})


@pytest.mark.timeout(600)
def test_python_blocks_run_in_order_in_a_fresh_kernel(tmp_path):
    blocks = [b for b in readme_blocks() if b.language == "python" or b.marker == "file"]
    skipped = [b for b in blocks if b.marker == "skip"]
    for block in blocks:
        if block.marker == "needs" and (missing := missing_modules(*block.argument.split(","))):
            if extras_required():
                pytest.fail(f"README line {block.line} needs {', '.join(missing)}, which every CI run installs")
            skipped.append(block)
            block.argument = f"needs {', '.join(missing)}: pip install -e '.[all]'"
    for block in skipped:
        print(f"README line {block.line}: not run ({block.argument})")
    cells = [as_cell(b) for b in blocks if b not in skipped]
    assert cells, "the README has no python blocks"
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                  "language": "python"}})
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    except CellExecutionError as error:
        ran = [c.metadata["readme_line"] for c in notebook.cells if c.get("execution_count")]
        pytest.fail(f"the README block at line {ran[-1] if ran else '?'} fails:\n{error}", pytrace=False)
    errors = [c.metadata["readme_line"] for c in notebook.cells
              if any(o.output_type == "error" for o in c.outputs)]
    assert not errors, f"README blocks at lines {errors} show an error"
    # A newcomer copies these blocks: none may print a warning (a HectorFidelityWarning means the example
    # does what Hector would not; a DeprecationWarning, code that will break).
    warned = {c.metadata["readme_line"]: o.text for c in notebook.cells for o in c.outputs
              if o.output_type == "stream" and o.name == "stderr" and "Warning" in o.text}
    assert not warned, f"README blocks print warnings: {warned}"


def test_bash_blocks_parse_and_name_real_commands():
    for block in readme_blocks():
        if block.language != "bash":
            continue
        checked = subprocess.run(["bash", "-n"], input=block.source, text=True, capture_output=True, timeout=30)
        assert checked.returncode == 0, f"README line {block.line}: {checked.stderr}"
        for command in re.findall(r"python3? -m hector_nb (\w+)", block.source):
            shown = subprocess.run([sys.executable, "-m", "hector_nb", command, "--help"], capture_output=True,
                                   text=True, timeout=60)
            assert shown.returncode == 0, f"README line {block.line}: python3 -m hector_nb {command}: {shown.stderr}"


def test_yaml_blocks_parse():
    for block in readme_blocks():
        if block.language == "yaml":
            assert isinstance(yaml.safe_load(block.source), dict), f"README line {block.line}"


def readme_provider_classes() -> list[tuple[int, type]]:
    """Every provider class a README block defines: a ``%%hector provider`` cell or a plugin file."""
    from hector_nb import sdk

    bases = (sdk.LLMProvider, sdk.DatabaseProvider, sdk.EmbedderProvider)
    found = []
    for block in readme_blocks():
        if block.language != "python" or "Provider)" not in block.source:
            continue
        source = block.source.split("\n", 1)[1] if block.source.startswith("%%hector provider") else block.source
        namespace: dict = {"__name__": f"readme_line_{block.line}"}
        exec(compile(source, f"README.md line {block.line}", "exec"), namespace)  # noqa: S102 - the README's own code
        found += [(block.line, value) for value in namespace.values()
                  if isinstance(value, type) and issubclass(value, bases) and value not in bases
                  and value.__module__ == namespace["__name__"]]
    return found


def _checked(report, where: str) -> None:
    shown = report[~report.verdict.isin(["pass", "skip"])]
    assert shown.empty, f"{where}:\n{shown[['check', 'verdict', 'happened']].to_string()}"


def test_the_readme_providers_pass_check_with_no_warning(tmp_path):
    import warnings

    import hector_nb

    classes = readme_provider_classes()
    assert {cls.__name__ for _, cls in classes} >= {"Shout", "MyLLM"}, classes
    for line, cls in classes:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _checked(hector_nb.check(cls()), f"README line {line}, {cls.__name__}")
        assert not caught, f"README line {line}, {cls.__name__}: {[str(w.message) for w in caught]}"
    # The plugin files the README writes, checked as Hector runs them, with the config its hector.yaml gives.
    files = [b for b in readme_blocks() if b.marker == "file"]
    for block in files:
        (tmp_path / block.argument).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / block.argument).write_text(block.source)
        if block.source.startswith("#!"):
            (tmp_path / block.argument).chmod(0o755)
    configs = {entry["path"].removeprefix("./"): entry.get("config", {})
               for section in yaml.safe_load((tmp_path / "hector.yaml").read_text())["plugins"].values()
               for entry in section.values()}
    executables = [b for b in files if b.source.startswith("#!") and (tmp_path / f"{b.argument}.plugin.yaml").exists()]
    assert executables, "the README writes a plugin executable and its manifest"
    for block in executables:
        _checked(hector_nb.check(tmp_path / block.argument, config=configs.get(block.argument, {})),
                 f"README line {block.line}, {block.argument} run as Hector runs it")
