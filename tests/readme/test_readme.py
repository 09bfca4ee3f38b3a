"""Every code block of README.md and docs/*.md runs as written; their Python type-checks.

How the blocks are run, and how to mark one that is a file or cannot run here, is in
``tests/doc_pages.py``'s docstring.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from doc_pages import LANGUAGES, MARKERS, PAGES, README, ROOT, Block, all_blocks, page_blocks, runnable, setup_pages
from extras import extras_required, missing_modules
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

import hector_nb

# The README's two commands, as CI runs them: .ci/run runs each line exactly.
README_COMMANDS = ('python3 -m pip install -e . && python3 -m hector_nb demo\n'
                   'python3 -m pip install -e ".[dev]" && python3 -m pytest\n')


def as_cell(block: Block) -> Any:
    """The notebook cell that runs (or writes) ``block``."""
    if block.marker == "file":
        source = ("from pathlib import Path\n"
                  f"_path = Path({block.argument!r})\n"
                  "_path.parent.mkdir(parents=True, exist_ok=True)\n"
                  f"_path.write_text({block.source!r})\n"
                  + ("_path.chmod(0o755)\n" if block.source.startswith("#!") else ""))
    elif block.language == "bash":
        source = ("import subprocess as _subprocess\n"
                  f"_ran = _subprocess.run(['bash', '-e', '-c', {block.source!r}], capture_output=True, text=True)\n"
                  "print(_ran.stdout, end='')\n"
                  f"assert _ran.returncode == 0, f'{block.where}: exit {{_ran.returncode}}: {{_ran.stderr}}'\n")
    else:
        source = block.source.rstrip("\n")
    return new_code_cell(source, metadata={"doc_line": block.where})  # type: ignore[no-untyped-call]


def left_out(blocks: list[Block]) -> list[Block]:
    """The blocks not run here, each with its reason in ``argument``, printed."""
    out = [b for b in blocks if b.marker == "skip"]
    for block in blocks:
        if block.marker == "needs" and (missing := missing_modules(*block.argument.split(","))):
            if extras_required():
                pytest.fail(f"{block.where} needs {', '.join(missing)}, which every CI run installs")
            out.append(block)
            block.argument = f"needs {', '.join(missing)}: pip install -e '.[all]'"
    for block in out:
        print(f"{block.where}: not run ({block.argument})")
    return out


def pages_with_runnable_blocks() -> list[Path]:
    return [page for page in PAGES if any(runnable(b) for b in page_blocks(page))]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", pages_with_runnable_blocks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_blocks_run_in_order_in_a_fresh_kernel(page: Path, tmp_path: Path) -> None:
    blocks = [b for p in [*setup_pages(page), page] for b in page_blocks(p) if runnable(b)]
    skipped = left_out(blocks)
    cells = [as_cell(b) for b in blocks if b not in skipped]
    assert cells, f"{page.relative_to(ROOT)}: every block is left out"
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = new_notebook(cells=cells, metadata={"kernelspec": kernelspec})  # type: ignore[no-untyped-call]
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    except CellExecutionError as error:
        ran = [c.metadata["doc_line"] for c in notebook.cells if c.get("execution_count")]
        pytest.fail(f"the block at {ran[-1] if ran else '?'} fails:\n{error}", pytrace=False)
    errors = [c.metadata["doc_line"] for c in notebook.cells if any(o.output_type == "error" for o in c.outputs)]
    assert not errors, f"blocks at {errors} show an error"
    # A newcomer copies these blocks: none may print a warning (a HectorFidelityWarning means the example
    # does what Hector would not; a DeprecationWarning, code that will break).
    warned = {c.metadata["doc_line"]: o.text for c in notebook.cells for o in c.outputs
              if o.output_type == "stream" and o.name == "stderr" and "Warning" in o.text}
    assert not warned, f"blocks print warnings: {warned}"


def test_every_block_has_a_known_language_and_marker() -> None:
    for block in all_blocks():
        assert block.language in LANGUAGES, f"{block.where}: a ```{block.language} block (known: {LANGUAGES})"
        assert not block.marker or block.marker in MARKERS, f"{block.where}: doc-test marker {block.marker!r}"
        assert block.marker != "skip" or block.argument, f"{block.where}: a skipped block must say why"
    for page in PAGES:
        for setup in setup_pages(page):
            assert setup.exists(), f"{page.relative_to(ROOT)}: 'after' names {setup}, which does not exist"


def test_the_readme_opens_with_the_two_commands_ci_runs() -> None:
    first = page_blocks(README)[0]
    assert (first.language, first.source) == ("bash", README_COMMANDS), "the README's first block changed"
    ci = (ROOT / ".ci" / "run").read_text()
    for command in README_COMMANDS.splitlines():
        assert command in ci, f".ci/run no longer runs the README's {command!r}"


def test_the_readme_maps_every_docs_page() -> None:
    text = README.read_text()
    unmapped = [page.name for page in PAGES[1:] if f"](docs/{page.name})" not in text]
    assert not unmapped, f"the README's map of the docs lacks {unmapped}: add a row for each"


def test_bash_blocks_parse_and_name_real_commands() -> None:
    for block in all_blocks():
        if block.language != "bash":
            continue
        checked = subprocess.run(["bash", "-n"], input=block.source, text=True, capture_output=True, timeout=30)
        assert checked.returncode == 0, f"{block.where}: {checked.stderr}"
        for command in re.findall(r"python3? -m hector_nb (\w+)", block.source):
            shown = subprocess.run([sys.executable, "-m", "hector_nb", command, "--help"], capture_output=True,
                                   text=True, timeout=60)
            assert shown.returncode == 0, f"{block.where}: python3 -m hector_nb {command}: {shown.stderr}"


def test_yaml_blocks_parse() -> None:
    for block in all_blocks():
        if block.language == "yaml":
            assert isinstance(yaml.safe_load(block.source), dict), block.where


def as_python(block: Block) -> str:
    """The block as plain Python for mypy: magic lines become comments; a cell magic whose body is not
    Python (every one but ``%%hector provider``) becomes a comment whole."""
    lines = block.source.splitlines()
    if lines and lines[0].startswith("%%") and not lines[0].startswith("%%hector provider"):
        return "\n".join(f"# {line}" for line in lines)
    return "\n".join(f"# {line}" if line.lstrip().startswith("%") else line for line in lines)


def module_name(page: Path, suffix: str = "") -> str:
    return re.sub(r"\W", "_", f"{page.relative_to(ROOT).with_suffix('')}{suffix}")


@pytest.mark.timeout(600)
def test_mypy_passes_over_the_python_blocks(tmp_path: Path) -> None:
    """Each page's Python blocks as one module (later blocks use earlier names), each Python file a page
    writes as one module of its own, checked with the project's mypy settings, less strict's demand that every
    def be annotated: the blocks are a user's code, and a user's project need not annotate a provider's methods
    (their bodies are still checked, and every call into hector_nb is)."""
    modules: dict[str, str] = {}
    for page in PAGES:
        blocks = [b for b in page_blocks(page) if b.language == "python" and b.marker != "skip"]
        cells = [as_python(b) for b in blocks if b.marker != "file"]
        if cells:
            modules[module_name(page)] = "\n\n".join(cells)
        for block in blocks:
            if block.marker == "file":
                modules[module_name(page, f"_{block.argument}")] = block.source
    assert len(modules) > 5, modules.keys()
    for name, source in modules.items():
        (tmp_path / f"{name}.py").write_text(source + "\n")
    # MYPYPATH: this checkout's hector_nb, whichever one is installed.
    checked = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                              "--allow-untyped-defs", "--allow-incomplete-defs", "--allow-untyped-calls",
                              "--cache-dir", str(tmp_path / ".mypy_cache"), *sorted(f"{n}.py" for n in modules)],
                             cwd=tmp_path, capture_output=True, text=True, timeout=540,
                             env={**os.environ, "MYPYPATH": str(ROOT)})
    assert checked.returncode == 0, f"mypy over the docs' blocks (module = page):\n{checked.stdout}{checked.stderr}"


def docs_provider_classes() -> list[tuple[str, type]]:
    """Every provider class a page's block defines: a ``%%hector provider`` cell or a plugin file."""
    from hector_nb import sdk

    bases = (sdk.LLMProvider, sdk.DatabaseProvider, sdk.EmbedderProvider)
    found = []
    for block in all_blocks():
        if block.language != "python" or "Provider)" not in block.source:
            continue
        source = block.source.split("\n", 1)[1] if block.source.startswith("%%hector provider") else block.source
        namespace: dict[str, Any] = {"__name__": module_name(block.page, f"_line_{block.line}")}
        exec(compile(source, block.where, "exec"), namespace)  # noqa: S102 - the docs' own code
        found += [(block.where, value) for value in namespace.values()
                  if isinstance(value, type) and issubclass(value, bases) and value not in bases
                  and value.__module__ == namespace["__name__"]]
    return found


def _checked(report: hector_nb.CheckReport, where: str) -> None:
    shown = report[~report.verdict.isin(["pass", "skip"])]
    assert shown.empty, f"{where}:\n{shown[['check', 'verdict', 'happened']].to_string()}"


def test_the_docs_providers_pass_check_with_no_warning(tmp_path: Path) -> None:
    import warnings

    classes = docs_provider_classes()
    assert {cls.__name__ for _, cls in classes} >= {"Shout", "MyLLM"}, classes
    for where, cls in classes:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _checked(hector_nb.check(cls()), f"{where}, {cls.__name__}")
        assert not caught, f"{where}, {cls.__name__}: {[str(w.message) for w in caught]}"
    # The plugin files the docs write, checked as Hector runs them, with the config their hector.yaml gives.
    files = [b for b in all_blocks() if b.marker == "file"]
    written: dict[str, str] = {}
    for block in files:
        assert written.setdefault(block.argument, block.where) == block.where, \
            f"{block.where} and {written[block.argument]} both write {block.argument}: give one another name"
        (tmp_path / block.argument).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / block.argument).write_text(block.source)
        if block.source.startswith("#!"):
            (tmp_path / block.argument).chmod(0o755)
    configs = {entry["path"].removeprefix("./"): entry.get("config", {})
               for section in yaml.safe_load((tmp_path / "hector.yaml").read_text())["plugins"].values()
               for entry in section.values()}
    executables = [b for b in files if b.source.startswith("#!") and (tmp_path / f"{b.argument}.plugin.yaml").exists()]
    assert executables, "the docs write a plugin executable and its manifest"
    for block in executables:
        _checked(hector_nb.check(tmp_path / block.argument, config=configs.get(block.argument, {})),
                 f"{block.where}, {block.argument} run as Hector runs it")

