"""A certificate to serve the bridge over HTTPS, made on the fly: Hector v1's vector store needs TLS.

Hector v1.9.9's ``milvus`` client panics on every request over plain HTTP (CONTRACT
section 7); with ``enable_tls: true`` and ``ca_certificate: FILE`` it works. trustme (a
maintained library) makes a certificate authority that exists only for this bridge
and a server certificate it signs for the bridge's host; Hector is given the
authority's certificate, and nothing is added to any trust store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Names every certificate covers, beside the host the bridge listens on.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServerCertificate:
    """The files of a bridge's TLS: what clients trust (``ca_certificate``) and what the server presents."""

    ca_certificate: Path
    certificate_chain: Path
    private_key: Path


def make_certificate(directory: str | os.PathLike[str], host: str = "127.0.0.1") -> ServerCertificate:
    """A new authority and a server certificate for ``host`` (and loopback), written into ``directory``.

    The private key is readable by its owner only.
    """
    import trustme

    folder = Path(directory)
    authority = trustme.CA(organization_name="hector_nb bridge")
    names = dict.fromkeys((host, *LOOPBACK_NAMES))  # ordered, without repeats
    server = authority.issue_cert(*names)
    files = ServerCertificate(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    authority.cert_pem.write_to_path(files.ca_certificate)
    files.certificate_chain.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    descriptor = os.open(files.private_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as key:
        key.write(server.private_key_pem.bytes())
    return files
