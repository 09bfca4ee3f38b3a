"""The handshake line and the plugin log, as units."""

import pytest

from hector_nb.host.handshake import is_handshake, parse_handshake
from hector_nb.host.log import PluginLog


def test_unix_tcp_and_optional_fields():
    unix = parse_handshake("1|1|unix|/tmp/plugin1234/plugin.sock|grpc\n")
    assert (unix.network, unix.target, unix.server_cert, unix.multiplex) == (
        "unix", "unix:/tmp/plugin1234/plugin.sock", "", False)
    tcp = parse_handshake("1|1|tcp|127.0.0.1:10042|grpc|MIIBase64Cert|true")
    assert (tcp.target, tcp.server_cert, tcp.multiplex) == ("127.0.0.1:10042", "MIIBase64Cert", True)


@pytest.mark.parametrize("line, message", [
    ("2|1|unix|/x|grpc", "core protocol version 2"),
    ("1|7|unix|/x|grpc", "app protocol version 7"),
    ("1|1|pipe|/x|grpc", "network 'pipe'"),
    ("1|1|unix|/x|netrpc", "protocol 'netrpc'"),
])
def test_wrong_handshakes(line, message):
    with pytest.raises(ValueError, match=message):
        parse_handshake(line)


def test_junk_is_not_a_handshake():
    assert not is_handshake("Starting Go echo plugin")
    assert not is_handshake("1|2|3")
    assert not is_handshake('{"@level":"debug","@message":"plugin address"}')
    assert is_handshake("1|1|unix|/x|grpc")


def test_log_is_bounded_and_tagged():
    log = PluginLog(max_lines=3)
    log.add("stderr", "one\ntwo")
    log.add("stdout", "three\nfour\n")
    assert log.lines() == ["[stderr] two", "[stdout] three", "[stdout] four"]
    assert log.tail(5, "stderr") == "[stderr] two"
