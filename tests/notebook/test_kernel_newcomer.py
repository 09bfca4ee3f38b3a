"""In a real Jupyter kernel: no stray repr under a live generation, and %tb shows the provider's traceback."""

from __future__ import annotations

import re

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
BOOM = '''%%hector provider --name boom
from hector_nb.sdk import LLMProvider

class Boom(LLMProvider):
    def generate_streaming(self, messages, tools):
        yield "partial "
        raise RuntimeError("stream broke")'''


def run(*sources: str):
    notebook = new_notebook(metadata={"kernelspec": KERNELSPEC}, cells=[new_code_cell(s) for s in sources])
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True).execute()
    return notebook.cells


def test_an_unassigned_generation_shows_only_its_widget():
    cells = run("%load_ext hector_nb", "%hector load builtin:echo", '%hector generate echo "hello there"',
                'g = %hector generate echo "again"\ng')
    outputs = cells[2].outputs
    assert [o.output_type for o in outputs] == ["display_data"], outputs
    assert "application/vnd.jupyter.widget-view+json" in outputs[0]["data"]
    assert not any("<Generation" in str(o) for o in outputs)
    # Shown in the cell that streamed it, the variable displays nothing more; in a later cell it shows its text.
    later = run("%load_ext hector_nb", "%hector load builtin:echo", 'g = %hector generate echo "hi"', "g")[3].outputs
    assert [o.output_type for o in later] == ["display_data"]
    assert later[0]["data"]["text/plain"].split("\n")[1].startswith("[done: ")


def test_tb_shows_the_providers_own_traceback():
    cells = run("%load_ext hector_nb", BOOM, '%hector generate boom "hi"', "%tb")
    # The failing cell: one line (IPython shows a UsageError on stderr, without a traceback).
    printed = "".join(o.get("text", "") for o in cells[2].outputs)
    assert "UsageError: plugin 'boom', generate: RuntimeError: stream broke (traceback: %tb, or %hector logs boom)" \
        in printed and "Traceback" not in printed
    # %tb: the provider's own exception, with the frames of the cell that defined it.
    shown = [o for o in cells[3].outputs if o.output_type == "error"]
    assert shown and (shown[0]["ename"], shown[0]["evalue"]) == ("RuntimeError", "stream broke")
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", "".join(shown[0]["traceback"]))  # without the colours
    assert "raise RuntimeError" in traceback and "generate_streaming" in traceback
