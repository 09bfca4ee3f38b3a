"""The go-plugin handshake line a plugin prints: ``CORE|APP|NETWORK|ADDRESS|PROTOCOL[|CERT[|MUX]]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..plugin.constants import APP_PROTOCOL_VERSIONS, CORE_PROTOCOL_VERSION, PROTOCOL, TRUE_TEXT

_CANDIDATE = re.compile(r"^\d+\|\d+\|")


@dataclass(frozen=True)
class Handshake:
    """A parsed handshake line."""

    core_version: int
    app_version: int
    network: str
    address: str
    protocol: str
    server_cert: str = ""
    multiplex: bool = False

    @property
    def target(self) -> str:
        """The address in the form grpc dials."""
        return f"unix:{self.address}" if self.network == "unix" else self.address


def is_handshake(line: str) -> bool:
    """Whether a stdout line is meant as the handshake (other lines are logged and skipped)."""
    return bool(_CANDIDATE.match(line.strip())) and line.count("|") >= 4


def parse_handshake(line: str) -> Handshake:
    """Parse and check a handshake line; ``ValueError`` says what is wrong with it."""
    fields = line.strip().split("|")
    if len(fields) < 5:
        raise ValueError(f"handshake {line.strip()!r} has {len(fields)} fields, expected at least 5")
    core, app, network, address, protocol = fields[:5]
    if int(core) != CORE_PROTOCOL_VERSION:
        raise ValueError(f"core protocol version {core}, but this host speaks {CORE_PROTOCOL_VERSION}: "
                         "the plugin was built for another go-plugin")
    if int(app) not in APP_PROTOCOL_VERSIONS:
        raise ValueError(f"app protocol version {app}, but Hector's plugins speak "
                         + ", ".join(map(str, APP_PROTOCOL_VERSIONS)))
    if network not in ("unix", "tcp"):
        raise ValueError(f"network {network!r}; expected 'unix' or 'tcp'")
    if protocol != PROTOCOL:
        raise ValueError(f"protocol {protocol!r}; Hector plugins must speak {PROTOCOL!r}")
    return Handshake(
        core_version=int(core),
        app_version=int(app),
        network=network,
        address=address,
        protocol=protocol,
        server_cert=fields[5] if len(fields) > 5 else "",
        multiplex=len(fields) > 6 and fields[6].strip().lower() == TRUE_TEXT,
    )
