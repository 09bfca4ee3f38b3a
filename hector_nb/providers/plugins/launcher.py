#!/usr/bin/env python3
"""Hector plugin launcher for hector_nb's built-in providers.

Each launcher NAME beside this file is a link to it, and serves the built-in
provider NAME (``builtin:NAME``). Hector starts it with the first ``python3`` on
its own PATH, which needs hector_nb (and the provider's extra, e.g.
``pip install -e ".[qdrant]"`` in the hector_nb clone). ``python -m hector_nb export builtin:NAME --out DIR``
writes a launcher that names the interpreter that ran it instead.
"""

import os
import sys

NAME = os.path.basename(sys.argv[0])

if __name__ == "__main__":
    try:
        from hector_nb.plugin.serve import serve_plugin
        from hector_nb.providers import builtin_class
    except ModuleNotFoundError as error:
        module = (error.name or "?").split(".")[0]
        # hector_nb is installed from its clone (it is on no package index): this launcher's own, when it is
        # still inside one; the toys need no extra, a real engine the extra of its name.
        clone = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))
        source = clone if os.path.isfile(os.path.join(clone, "pyproject.toml")) else "PATH/TO/hector_nb-clone"
        extra = "" if NAME in ("echo", "memory", "hashing") else f"[{NAME}]"
        sys.stderr.write(f"{NAME}: {sys.executable} lacks the Python package of module {module!r}; install "
                         f'hector_nb there ({sys.executable} -m pip install -e "{source}{extra}"), or write a '
                         f"launcher that names a Python that has it: python -m hector_nb export builtin:{NAME} "
                         "--out DIR\n")
        sys.exit(1)
    provider = builtin_class(NAME)()
    serve_plugin(provider, provider.plugin_type)
