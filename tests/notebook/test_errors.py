"""Errors lead to their cause (issue 12, items 3 to 5): one line, with the provider's traceback one step away."""

from __future__ import annotations

import sys
import time

import pytest
from IPython.core.error import UsageError

import hector_nb
from hector_nb import sdk

BOOM = '''from hector_nb.sdk import LLMProvider, GenerateResponse

class Boom(LLMProvider):
    def generate(self, messages, tools):
        return GenerateResponse(text=broken_helper(messages))

    def generate_streaming(self, messages, tools):
        yield "a "
        raise RuntimeError("stream broke")

def broken_helper(messages):
    return messages[5].content
'''


class Fragile(sdk.EmbedderProvider):
    """Raises from its own code: the traceback must name this function."""

    def embed(self, text):
        return self.tokenize(text)

    def tokenize(self, text):
        raise ValueError(f"cannot tokenize {text!r}")


def failing_cell(ip, line):
    result = ip.run_cell(line)
    assert isinstance(result.error_in_exec, UsageError), result
    return result.error_in_exec


def test_a_stream_error_is_one_line_and_its_traceback_is_in_tb_and_logs(ip, capsys):
    ip.run_cell_magic("hector", "provider --name boom", BOOM)
    capsys.readouterr()
    error = failing_cell(ip, '%hector generate boom "hi"')
    assert str(error) == ("plugin 'boom', generate: RuntimeError: stream broke "
                          "(traceback: %tb, or %hector logs boom)")
    # %tb shows the shell's last exception: the provider's own, raised in the cell's code.
    assert isinstance(sys.last_value, RuntimeError) and str(sys.last_value) == "stream broke"
    frames = [frame for frame in _frames(sys.last_traceback)]
    assert frames[-1][1] == "generate_streaming" and frames[-1][2] == 9
    ip.run_line_magic("hector", "logs boom")
    logs = capsys.readouterr().out
    assert "generate_streaming raised:" in logs and 'raise RuntimeError("stream broke")' in logs
    assert ", line 9, in generate_streaming" in logs


def test_a_unary_error_keeps_the_helper_frames(ip, capsys):
    ip.run_cell_magic("hector", "provider --name boom", BOOM)
    error = failing_cell(ip, '%hector generate boom "hi" --no-stream')
    assert str(error).startswith("plugin 'boom', generate: IndexError: list index out of range (traceback: %tb")
    assert [name for _, name, _ in _frames(sys.last_traceback)][-2:] == ["generate", "broken_helper"]


def test_in_process_provider_traceback_reaches_the_log(ip):
    client = hector_nb.session().add("fragile", Fragile(), transport="in-process")
    error = failing_cell(ip, '%hector embed fragile "text"')
    assert "ValueError: cannot tokenize 'text' (traceback: %tb, or %hector logs fragile)" in str(error)
    assert "in tokenize" in "\n".join(client.logs())


def test_subprocess_provider_traceback_reaches_the_log_through_stderr(ip):
    ip.run_cell_magic("hector", "provider --name boom --subprocess", BOOM)
    error = failing_cell(ip, '%hector generate boom "hi"')
    assert str(error) == ("plugin 'boom', generate: RuntimeError: stream broke "
                          "(what the plugin wrote: %hector logs boom)")
    client = hector_nb.session().get("boom")
    # stderr travels over GRPCStdio asynchronously: wait (bounded) until its last line has arrived.
    deadline = time.monotonic() + 60
    while not any("RuntimeError: stream broke" in line for line in client.logs()) and time.monotonic() < deadline:
        time.sleep(0.05)
    logs = "\n".join(client.logs())
    assert "[stderr] plugin 'boom', generate_streaming raised:" in logs
    assert 'raise RuntimeError("stream broke")' in logs and "in generate_streaming" in logs


def test_an_undefined_variable_is_named_and_double_braces_stay(ip):
    ip.run_line_magic("hector", "load builtin:echo")
    error = failing_cell(ip, '%hector generate echo "hello {nobody}"')
    assert str(error) == ("%hector generate uses {nobody}, but no variable 'nobody' is defined in the notebook; "
                          "define it in a cell first, or write {{nobody}} for literal braces")
    error = failing_cell(ip, "%%hector generate echo\nhi {nobody}\n")
    assert "the cell uses {nobody}" in str(error)
    ip.user_ns["who"] = "Ada"
    assert ip.run_line_magic("hector", 'generate echo "{who} writes {{json}}" --no-stream').text == \
        "Ada writes {json}"


@pytest.mark.parametrize("line, message", [
    ("serach db c", "unknown subcommand 'serach' (did you mean search?); %hector --help lists them"),
    ('search db c "q" --embeder h', "%hector search: --embeder is not an option (did you mean --embedder?); "
                                    "%hector search --help lists the options"),
    ("load builtin:echo --subprocss", "--subprocss is not an option (did you mean --subprocess?)"),
    ("search db c --top-k many", "argument --top-k: invalid int value: 'many'"),
])
def test_did_you_mean(ip, line, message):
    with pytest.raises(UsageError) as raised:
        ip.run_line_magic("hector", line)
    assert message in str(raised.value)


def test_searching_a_missing_collection_names_the_magic_that_creates_it(ip):
    ip.run_line_magic("hector", "load builtin:hashing --set dimension=16")
    ip.run_line_magic("hector", "load builtin:memory --name mem")
    error = failing_cell(ip, '%hector search mem notes "q" --embedder hashing')
    assert "no collection 'notes'" in str(error)
    assert "%hector upsert mem notes --from DF --text-column COLUMN --embedder E creates and fills it" in str(error)


def _frames(tb):
    while tb is not None:
        yield tb.tb_frame.f_code.co_filename, tb.tb_frame.f_code.co_name, tb.tb_lineno
        tb = tb.tb_next
