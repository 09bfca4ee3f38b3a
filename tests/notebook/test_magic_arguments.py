"""A magic's text made into arguments: {var} filled in, then split, in one pass however long the text."""

from __future__ import annotations

import shlex

import pytest
from IPython.core.error import UsageError
from IPython.utils.text import DollarFormatter

from hector_nb.magics.arguments import expand_variables, split_arguments

NAMESPACE = {"name": "Ada", "items": [1, 2], "s": "xyz"}


@pytest.mark.parametrize("line", [
    "a b c", 'generate echo "hello world" --out x', "a 'b c' d", 'a "" b', "a '' b", 'x"y z"w', r"a\ b c",
    r'"a \"q\" \\ \n"', "a # comment\nb", "a#b c", '"a#b" c', "  lead  trail  ", "", "\t\n", "a\\\\",
    "é ü\u00a0x", "--set 'temperature=\"0.7\"'", "a\"b\"'c'd", "#only", 'x #c\n"y z"', '""', r"\"",
    "it's", '"open', "a \\",
])
def test_lines_split_as_shlex_splits_them(line):
    def outcome(split):
        try:
            return split(line)
        except ValueError as exc:
            return f"ValueError: {exc}"

    assert outcome(split_arguments) == outcome(lambda text: shlex.split(text, comments=True))


@pytest.mark.parametrize("text", [
    "hi {name}", "{{json}}", "{{{name}}}", "$name and '$name'", "$$name", "$$ 1", "a $ b",
    "{items[0]} {s[1:]} {name!r}", "a {name.upper()}", "no placeholders at all",
])
def test_variables_are_filled_in_as_ipython_fills_them(text):
    assert expand_variables(text, dict(NAMESPACE), "w") == DollarFormatter().vformat(text, [], dict(NAMESPACE))


@pytest.mark.parametrize("text, message", [
    ("a { b", "the cell: a single '{' in the text; write {{ for a literal brace"),
    ("a } b", "the cell: a single '}' in the text; write }} for a literal brace"),
    ("{nobody}", "the cell uses {nobody}, but no variable 'nobody' is defined in the notebook"),
    ("{1/0}", "the cell: cannot fill in {1/0} (ZeroDivisionError: division by zero)"),
])
def test_what_cannot_be_filled_in_is_named(text, message):
    with pytest.raises(UsageError, match=message.replace("{", r"\{").replace("}", r"\}").replace("(", r"\(")
                       .replace(")", r"\)")):
        expand_variables(text, dict(NAMESPACE), "the cell")


@pytest.fixture
def no_quadratic_helpers(monkeypatch):
    """IPython's formatter (it looks ahead to the end of the text at every ``$``) and shlex (it builds each
    argument a character at a time) took minutes on a 2 MB prompt: the magics must use neither."""
    def refuse(*args, **kwargs):
        raise AssertionError("a quadratic helper was called")

    monkeypatch.setattr(DollarFormatter, "vformat", refuse)
    monkeypatch.setattr(shlex, "split", refuse)


def test_a_2_mb_prompt_reaches_the_plugin_whole_on_a_line_and_in_a_cell(ip, capsys, no_quadratic_helpers):
    ip.run_line_magic("hector", "load builtin:echo")
    ip.user_ns["who"] = "Ada"
    sentence = "the fox's {{tail}} jumps over 42 lazy dogs, then naps. "
    text = sentence * (2_000_000 // len(sentence)) + "{who}"
    expected = text.replace("{{", "{").replace("}}", "}").replace("{who}", "Ada")
    for cell in (f'%hector generate echo "{text}" --no-stream --out answer',
                 f"%%hector generate echo --no-stream --out answer\n{text}"):
        result = ip.run_cell(cell)
        assert result.success, result.error_in_exec
        assert ip.user_ns["answer"].text == expected
        # Stored, and shown as a one-line preview with its length, not printed again in full.
        printed = capsys.readouterr().out
        assert printed == f"answer = the answer ({len(expected):,} characters): {expected[:200]!r}…\n"


def test_a_syntax_error_in_a_provider_cell_names_the_line_the_user_sees(ip):
    cell = "from hector_nb import sdk\n\nclass Bad(sdk.LLMProvider):\n    def generate(self, messages, tools)\n"
    result = ip.run_cell(f"%%hector provider\n{cell}")
    assert isinstance(result.error_in_exec, UsageError)
    # Line 1 of the cell is %%hector provider: the def is on line 5 as the notebook shows it.
    assert str(result.error_in_exec) == ("the provider cell does not parse: expected ':' at line 5 of the cell: "
                                         "def generate(self, messages, tools)")


def test_an_unquoted_prompt_of_several_words_says_to_quote_it(ip):
    ip.run_line_magic("hector", "load builtin:echo")
    with pytest.raises(UsageError) as raised:
        ip.run_line_magic("hector", "generate echo hello big world --no-stream")
    assert str(raised.value).endswith('text of several words goes in quotes: '
                                      '%hector generate echo "hello big world" --no-stream')
    with pytest.raises(UsageError) as raised:  # load takes no text: nothing to quote
        ip.run_line_magic("hector", "load builtin:echo more")
    assert "quotes" not in str(raised.value)
