"""The pip command that brings an extra (a real engine's packages) into this Python.

hector_nb is installed from its clone (it is on no package index), so the command
names the clone: ``pip install -e "/path/to/clone[qdrant]"``, which works from any
directory. Installed some other way (a wheel built from the clone), the extra is
named on the package.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The clone hector_nb runs from, when it is an editable install (or on PYTHONPATH).
_CLONE = Path(__file__).resolve().parents[2]


def install_command(extra: str) -> str:
    """``python -m pip install -e "CLONE[extra]"``, for the Python running now."""
    if (_CLONE / "pyproject.toml").is_file():
        return f'{sys.executable} -m pip install -e "{_CLONE}[{extra}]"'
    return f'{sys.executable} -m pip install "hector_nb[{extra}]"'
