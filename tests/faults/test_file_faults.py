"""Files that are not what they claim: a FIFO, a device or a huge file where a YAML file should be."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from hector_nb.config import load_hector_config
from hector_nb.errors import ConfigError, ManifestError
from hector_nb.hector_yaml import MAX_FILE_BYTES
from hector_nb.manifest import discover, read_manifest

GOOD = "plugin:\n  name: {name}\n  version: 1.0.0\n  type: llm_provider\n  protocol: grpc\n"


def good_plugin(directory, name):
    executable = directory / name
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    (directory / f"{name}.plugin.yaml").write_text(GOOD.format(name=name))


def bounded(action, fifo, timeout=20.0):
    """``action()``'s result or exception, failing the test if it does not end within ``timeout``;
    a reader left blocked on ``fifo`` is released (a writer opens and closes it) so no thread leaks."""
    outcome: list = []

    def run():
        try:
            outcome.append(action())
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    blocked = worker.is_alive()
    if blocked:
        os.close(os.open(fifo, os.O_WRONLY))  # the blocked open() of the reader returns
        worker.join(timeout)
    assert not blocked, f"still reading {fifo} after {timeout:g}s"
    return outcome[0]


# Item 13: only regular files of bounded size are read; one bad entry never blocks discovery.
def test_a_fifo_as_hector_yaml_is_refused_at_once(tmp_path):
    fifo = tmp_path / "hector.yaml"
    os.mkfifo(fifo)
    error = bounded(lambda: load_hector_config(fifo), fifo)
    assert isinstance(error, ConfigError) and "a FIFO (named pipe), not a regular file" in str(error), error


def test_a_fifo_among_manifests_does_not_block_discovery_of_the_others(tmp_path):
    good_plugin(tmp_path, "alpha")
    good_plugin(tmp_path, "omega")
    os.mkfifo(tmp_path / "middle.plugin.yaml")
    found = bounded(lambda: discover(tmp_path), tmp_path / "middle.plugin.yaml")
    assert [(entry.name, entry.valid) for entry in found] == [("alpha", True), ("middle.plugin.yaml", False),
                                                                ("omega", True)]
    assert "a FIFO (named pipe), not a regular file" in found[1].error


def test_a_file_larger_than_any_manifest_is_refused_without_parsing_it(tmp_path):
    with open(tmp_path / "huge.plugin.yaml", "wb") as huge:  # sparse: costs no disk
        huge.truncate(2 * MAX_FILE_BYTES)
    with pytest.raises(ManifestError, match=r"larger than 4 MB"):
        read_manifest(tmp_path / "huge.plugin.yaml", check_executable=False)


@pytest.mark.parametrize("reader", ["load_hector_config", "read_manifest"])
def test_dev_zero_as_a_yaml_file_is_refused_without_reading_it(tmp_path, reader):
    # In a child whose address space is capped: an unbounded read would fail there, not in this process.
    (tmp_path / "zero.plugin.yaml").symlink_to("/dev/zero")
    script = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))
        from hector_nb.config import load_hector_config
        from hector_nb.errors import SettingsError
        from hector_nb.manifest import read_manifest
        try:
            {reader}({str(tmp_path / "zero.plugin.yaml")!r})
        except SettingsError as exc:
            print(exc)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "a character device, not a regular file" in result.stdout, result.stderr[-2000:]
