"""--set KEY=VALUE means one thing everywhere: text, read by one parser (the magics' are in tests/notebook)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hector_nb.__main__ import main
from hector_nb.config import parse_settings
from hector_nb.errors import ConfigError


def test_values_are_text_as_written_after_the_first_equals_sign():
    assert parse_settings(["temperature=0.7", " prefix =Hi ", "url=a=b", "empty=", "quoted=\"0.7\""]) == {
        "temperature": "0.7", "prefix": "Hi ", "url": "a=b", "empty": "", "quoted": '"0.7"'}


@pytest.mark.parametrize("pair", ["metric", "=cosine", " =x"])
def test_a_pair_without_a_key_or_equals_sign_is_named(pair):
    with pytest.raises(ConfigError) as raised:
        parse_settings(["ok=1", pair])
    assert str(raised.value) == (f"configure: --set takes KEY=VALUE (the value is text), got {pair!r}; "
                                 "e.g. --set prefix=Hi")


@pytest.mark.parametrize("argv", [["check", "builtin:echo", "--set", "metric"],
                                  ["serve", "builtin:echo", "--set", "metric"]])
def test_the_commands_refuse_a_bad_pair_before_starting_anything(argv, capsys):
    assert main(argv) == 1
    assert capsys.readouterr().err == ("error: configure: --set takes KEY=VALUE (the value is text), got 'metric'; "
                                       "e.g. --set prefix=Hi\n")


def test_the_pytest_plugin_reads_its_ini_lines_with_the_same_parser(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "any.plugin.yaml").write_text("name: any\n")  # never read: the setting fails first
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["hector_nb.conformance.pytest_plugin"]\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\nhector_check_set =\n    model\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "plugins", "-q", "-p", "no:cacheprovider"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert ("configure: hector_check_set takes KEY=VALUE (the value is text), got 'model'; e.g. hector_check_set "
            "prefix=Hi") in result.stdout + result.stderr
