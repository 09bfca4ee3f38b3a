"""What the fidelity tests share with the notebook's: warnings caught afresh, and the noisy plugin."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hector_nb import hector
from hector_nb.manifest import PluginManifest, write_manifest

NOISY = Path(__file__).with_name("noisy_plugin.py")


@contextmanager
def fresh_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning recorded, each one afresh: Hector's once-per-session warnings are forgotten before and after."""
    hector.forget_warnings()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        yield caught
    hector.forget_warnings()


def install_noisy(directory: Path) -> Path:
    """The noisy plugin (it prints before its handshake) as an executable with its manifest, in ``directory``."""
    executable = directory / "noisy"
    executable.write_text(f"#!{sys.executable}\n{NOISY.read_text()}")
    executable.chmod(0o755)
    write_manifest(PluginManifest(name="noisy", version="1.0.0", type="llm_provider"), executable)
    return executable
