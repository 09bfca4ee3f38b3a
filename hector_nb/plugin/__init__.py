"""What an exported plugin carries: provider base classes, servicers, go-plugin serving, constants.

This subpackage imports nothing else of hector_nb (a test checks it), so
export copies it whole as a plugin's runtime. Plugin authors import
:mod:`hector_nb.sdk`, which re-exports :mod:`.sdk`.

- :mod:`.sdk`: provider base classes, wire messages, manifest facts;
- :mod:`.servicers`: providers behind Hector's gRPC services;
- :mod:`.serve`: the plugin side of go-plugin (handshake, health, controller, stdio);
- :mod:`.constants`: what both ends of the connection agree on;
- ``_wire``: stubs generated from ``proto/`` by ``scripts/gen_proto.py``.
"""
