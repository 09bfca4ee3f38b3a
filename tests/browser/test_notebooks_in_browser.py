"""Both notebooks, run in JupyterLab in a real headless Chromium (Debian's), driven by Playwright.

What a newcomer does: open the notebook, Run All, watch the generation stream into
the widget, read the tables. The test checks exactly that in the browser's DOM, then
the saved notebook: every code cell ran, no cell shows an error.

Chromium comes from Debian's packages (``apt-get install chromium``; ``.ci/run`` installs
it); Playwright is told where it is and never downloads a browser. Without a browser
the test skips, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from hector_nb.lab import NOTEBOOKS, start_lab

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # the quickstart runs real engines

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: JupyterLab settings for the run: every cell rendered (no windowing, so the DOM holds every output), no news.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none",
                                                                   "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}
KERNEL_STARTED_OR_ASKED = """() => document.querySelector('.jp-Dialog .jp-mod-accept')
  || /Python 3 \\(ipykernel\\) \\| Idle/.test(document.body.innerText)"""
# Records every text a streaming widget shows from now on (its text streams into an ipywidgets Output).
WATCH_STREAM = """() => {
  window.streamTexts = [];
  new MutationObserver(() => {
    for (const pre of document.querySelectorAll('.widget-output pre')) {
      const last = window.streamTexts[window.streamTexts.length - 1];
      if (pre.textContent !== last) window.streamTexts.push(pre.textContent);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
RUN_FINISHED = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return prompts.length > 0 && !prompts.some(p => p.textContent.includes('*'))
    && status && status.dataset.status === 'idle'
    && (/\\[\\d+\\]/.test(prompts[prompts.length - 1].textContent)
        || document.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'));
}"""


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not os.access(CHROMIUM, os.X_OK):
        reason = ("no browser: needs Debian's chromium (apt-get install chromium) and the playwright package "
                  "(pip install -e '.[dev]')")
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must install them (.ci/run)")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("notebooks")
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(notebook, root)
    settings = tmp_path_factory.mktemp("lab-settings")
    for name, values in LAB_SETTINGS.items():
        extension, _, file = name.rpartition("/")
        (settings / extension).mkdir(parents=True, exist_ok=True)
        (settings / extension / file).write_text(json.dumps(values))
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path_factory.mktemp("workspaces"))}
    log = root / "jupyter.log"
    with log.open("w") as output, start_lab(root, env=env, stdout=output, stderr=output, cwd=root) as server:
        server.wait_ready()
        yield root, server


def run_all(browser, lab, name: str, watch_stream: bool = False):
    """Open ``name`` at its own URL, Run All Cells, wait until the kernel is idle; the page and the saved notebook."""
    root, server = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(120_000)
    page.goto(server.url(name) + "&reset")  # a fresh workspace: only this notebook open
    page.wait_for_selector(".jp-Notebook .jp-CodeCell")
    # JupyterLab may still ask which kernel to start: the notebook's own (Python 3) is preselected.
    page.wait_for_function(KERNEL_STARTED_OR_ASKED, polling=250)
    if page.locator(".jp-Dialog .jp-mod-accept").count():
        page.locator(".jp-Dialog .jp-mod-accept").click()
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    if watch_stream:
        page.evaluate(WATCH_STREAM)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    page.wait_for_function(RUN_FINISHED, timeout=600_000, polling=250)
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", polling=250)
    return page, json.loads((root / name).read_text())


def assert_no_errors(page, notebook):
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    errors = [output for cell in code for output in cell["outputs"] if output["output_type"] == "error"]
    assert not errors, [f"{e['ename']}: {e['evalue']}" for e in errors]
    stderr = [output["text"] for cell in code for output in cell["outputs"]
              if output.get("name") == "stderr" and "Error" in "".join(output["text"])]
    assert not stderr, stderr
    prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
    assert all(prompt.strip() not in ("[ ]:", "[*]:") for prompt in prompts), f"cells that did not run: {prompts}"


def test_quickstart_in_jupyterlab(browser, lab):
    page, notebook = run_all(browser, lab, "quickstart.ipynb")
    assert_no_errors(page, notebook)
    # The widget rendered...
    final = page.locator(".widget-output pre").first.inner_text()
    assert final.startswith("Once upon a time a plugin author wanted to try Hector plugins.")
    # ...and it was redrawn while the stream ran (the kernel counts the redraws it sent; the next cell prints
    # them). The story streams for under a second, about as long as the widget's first render takes, so
    # the page itself is watched growing in test_a_stream_grows_in_the_page.
    outputs = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    updates = re.search(r"widget updates during the stream: (\d+)", outputs)
    assert updates and int(updates.group(1)) > 1, outputs
    assert any(t.startswith("done · storyteller") for t in page.locator(".widget-html").all_inner_texts())
    # Tables rendered as HTML tables: the plugin list, the corpus, the search, the comparison.
    tables = page.locator(".jp-RenderedHTMLCommon table.dataframe")
    assert tables.count() >= 5
    html = " ".join(tables.all_inner_texts())
    assert "shutil.move" in html and "euclidean" in html and "subprocess" in html
    page.close()


def test_export_notebook_in_jupyterlab(browser, lab):
    page, notebook = run_all(browser, lab, "export.ipynb")
    assert_no_errors(page, notebook)
    assert page.locator(".widget-output pre").first.inner_text().startswith("Hello, Ada!")
    outputs = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    assert "greeter.plugin.yaml" in outputs and "Hello, Grace!" in outputs
    page.close()


SLOW_STREAM = """%load_ext hector_nb
import time
from hector_nb import sdk, session

class Counting(sdk.LLMProvider):
    def generate_streaming(self, messages, tools):
        for i in range(40):
            time.sleep(0.1)
            yield f"{i} "

session().add("counting", Counting())"""


def test_a_stream_grows_in_the_page(browser, lab):
    root, _ = lab
    notebook = new_notebook(cells=[new_code_cell(SLOW_STREAM), new_code_cell('g = %hector generate counting "go"')],
                            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                     "language": "python"}})
    nbformat.write(notebook, root / "stream.ipynb")
    page, saved = run_all(browser, lab, "stream.ipynb", watch_stream=True)
    assert_no_errors(page, saved)
    texts = page.evaluate("() => window.streamTexts")
    final = " ".join(str(i) for i in range(40)) + " "
    assert texts[-1] == final
    assert len([t for t in texts if 0 < len(t) < len(final)]) >= 5, f"the page did not show the text growing: {texts}"
    page.close()
