"""The fault suite: each test reproduces one defect an attacker or a careless user found.

At the end of the suite, :func:`nothing_leaked` checks that the suite itself left
nothing behind: no process started by it (orphans included: every child inherits
a marker in its environment), no temporary directory (the suite runs with a private
``TMPDIR``), no plugin process object left uncleaned, and no open file descriptor or
thread beyond the few that the gRPC runtime and the async providers' loop keep.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from IPython.testing.globalipapp import start_ipython
from plugin_process import wait_until

from hector_nb import Session
from hector_nb.host import process
from hector_nb.manifest import manifest_from_provider, write_manifest

MARKER = "HECTOR_NB_FAULT_SUITE"
PLUGINS = Path(__file__).parent / "plugins"
#: Every way a provider can run: a fault must behave the same on each.
TRANSPORTS = ["in-kernel", "in-process", "subprocess"]
#: File descriptors gRPC's runtime may keep open once it has started (its event engine and poller).
FD_SLACK = 16
#: Threads started once per process and kept: the event loop of async providers, gRPC's own.
THREAD_SLACK = 4


def marked_processes(token: str) -> list[int]:
    """Live processes (not zombies) whose environment carries this run's marker."""
    needle = f"{MARKER}={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0") and \
                    (entry / "stat").read_text().split(") ")[1][0] != "Z":
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


@pytest.fixture(scope="package", autouse=True)
def nothing_leaked(tmp_path_factory):
    """Run the fault suite in a private TMPDIR with marked children; fail if anything is left at the end."""
    tmp_path_factory.getbasetemp()  # pytest's own temporary root stays where it was,
    start_ipython()  # and so does the history of IPython's test shell (one per test process, not ours)
    token = uuid.uuid4().hex
    private = Path(tempfile.mkdtemp(prefix="hector-nb-faults-"))
    saved = {key: os.environ.get(key) for key in (MARKER, "TMPDIR")}
    saved_tempdir = tempfile.tempdir
    os.environ[MARKER] = token
    os.environ["TMPDIR"] = str(private)
    tempfile.tempdir = str(private)
    fds_before = len(os.listdir("/proc/self/fd"))
    threads_before = threading.active_count()
    try:
        yield private
        # A plugin's own exit is bounded by its host's shutdown; give stragglers a generous bound.
        wait_until(lambda: not marked_processes(token), timeout=15)
        wait_until(lambda: threading.active_count() <= threads_before + THREAD_SLACK, timeout=15)
        leaked_processes = marked_processes(token)
        leaked_entries = sorted(p.name for p in private.iterdir())
        fds_after = len(os.listdir("/proc/self/fd"))
        threads_after = threading.active_count()
        unreleased = len(process._live)
    finally:
        tempfile.tempdir = saved_tempdir
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    for pid in leaked_processes:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    shutil.rmtree(private, ignore_errors=True)
    assert leaked_processes == [], f"the fault suite left processes running: {leaked_processes}"
    assert leaked_entries == [], f"the fault suite left temporary entries: {leaked_entries}"
    assert fds_after <= fds_before + FD_SLACK, f"file descriptors grew from {fds_before} to {fds_after}"
    assert threads_after <= threads_before + THREAD_SLACK, f"threads grew from {threads_before} to {threads_after}: " \
        + ", ".join(thread.name for thread in threading.enumerate())
    assert unreleased == 0, f"{unreleased} plugin process object(s) were never cleaned up"


@pytest.fixture
def session():
    with Session(timeout=30, start_timeout=30) as s:
        yield s


@pytest.fixture(params=TRANSPORTS)
def transport(request) -> str:
    """Each transport in turn."""
    return request.param


@pytest.fixture
def scripted(session, tmp_path):
    """``scripted(script, class_name, transport, **config)``: the provider class of ``plugins/script``, loaded
    in this process (in-kernel, in-process), or the script itself run as an executable beside its manifest."""
    def load(script: str, class_name: str, transport: str, **config: str):
        spec = importlib.util.spec_from_file_location(Path(script).stem, PLUGINS / script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        provider = getattr(module, class_name)()
        if transport != "subprocess":
            return session.add(provider.name, provider, transport=transport, config=config)
        manifest = manifest_from_provider(provider)
        executable = tmp_path / manifest.name
        executable.write_text(f"#!{sys.executable}\n" + (PLUGINS / script).read_text())
        executable.chmod(0o755)
        write_manifest(manifest, executable)
        return session.load(executable, config=config)

    return load
