"""The go-plugin process contract: handshake, cookie, versions, sockets, stdio, exit."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from google.protobuf import empty_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from plugin_process import host_env, process_gone, read_line, wait_until

from hector_nb import sdk
from hector_nb.plugin import constants
from hector_nb.plugin._wire import (
    grpc_broker_pb2,
    grpc_broker_pb2_grpc,
    grpc_controller_pb2,
    grpc_controller_pb2_grpc,
    grpc_stdio_pb2_grpc,
    llm_pb2_grpc,
)

PLUGINS = Path(__file__).parent / "plugins"


def _run_without_host(**env: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PLUGINS / "echo_llm.py")],
        env=host_env(**env), capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("cookie", [None, "", "hector_plugin_v2"])
def test_missing_or_wrong_cookie_exits_1_with_a_human_message(cookie):
    result = _run_without_host(HECTOR_PLUGIN=cookie)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "this binary is a plugin, run it through Hector" in result.stderr
    assert "Traceback" not in result.stderr


def test_unsupported_protocol_version_exits_1():
    result = _run_without_host(PLUGIN_PROTOCOL_VERSIONS="2,3")
    assert result.returncode == 1 and result.stdout == ""
    assert "offers plugin protocol version(s) 2, 3" in result.stderr
    assert "speaks version 1" in result.stderr


def test_version_1_among_several_is_accepted(start_plugin):
    plugin = start_plugin("echo_llm.py", PLUGIN_PROTOCOL_VERSIONS="3,1")
    assert plugin.handshake.startswith("1|1|unix|")


def test_automtls_request_is_refused_clearly():
    result = _run_without_host(PLUGIN_CLIENT_CERT="-----BEGIN CERTIFICATE-----")
    assert result.returncode == 1 and "AutoMTLS" in result.stderr


def test_unix_socket_in_private_directory_and_health(start_plugin, tmp_path):
    plugin = start_plugin("echo_llm.py", PLUGIN_UNIX_SOCKET_DIR=str(tmp_path))
    assert plugin.network == "unix"
    socket_dir = os.path.dirname(plugin.address)
    assert os.path.dirname(socket_dir) == str(tmp_path)
    assert stat.S_IMODE(os.stat(socket_dir).st_mode) == 0o700
    assert stat.S_ISSOCK(os.stat(plugin.address).st_mode)
    health = health_pb2_grpc.HealthStub(plugin.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service=constants.HEALTH_SERVICE), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_tcp_inside_the_port_range(start_plugin):
    plugin = start_plugin("echo_llm.py", HECTOR_NB_PLUGIN_TRANSPORT="tcp",
                          PLUGIN_MIN_PORT="21000", PLUGIN_MAX_PORT="21999")
    host, port = plugin.address.rsplit(":", 1)
    assert plugin.network == "tcp" and host == "127.0.0.1" and 21000 <= int(port) <= 21999
    stub = llm_pb2_grpc.LLMProviderStub(plugin.channel)
    assert stub.Initialize(sdk.InitializeRequest(), timeout=10).success


def test_print_reaches_grpc_stdio_and_never_stdout(start_plugin):
    plugin = start_plugin("echo_llm.py")
    stub = llm_pb2_grpc.LLMProviderStub(plugin.channel)
    stub.Initialize(sdk.InitializeRequest(), timeout=10)
    stub.Generate(sdk.GenerateRequest(messages=[sdk.Message(role="user", content="hi")]), timeout=10)
    stream = grpc_stdio_pb2_grpc.GRPCStdioStub(plugin.channel).StreamStdio(empty_pb2.Empty(), timeout=30)
    received = dict((data.channel, data.data) for data in (next(stream), next(stream)))
    stream.cancel()
    assert received == {1: b"generate called with 1 messages\n", 2: b"a warning\n"}
    controller = grpc_controller_pb2_grpc.GRPCControllerStub(plugin.channel)
    controller.Shutdown(grpc_controller_pb2.Empty(), timeout=10)
    assert plugin.process.wait(timeout=10) == 0
    assert plugin.process.stdout.read() == b"", "only the handshake line may appear on stdout"


def test_controller_shutdown_calls_provider_and_exits_0_removing_the_socket(start_plugin):
    plugin = start_plugin("echo_llm.py")
    stdio = grpc_stdio_pb2_grpc.GRPCStdioStub(plugin.channel).StreamStdio(empty_pb2.Empty(), timeout=30)
    # The broker stream is opened and held, as go-plugin's host does.
    hold = threading.Event()

    def broker_requests():
        yield grpc_broker_pb2.ConnInfo(service_id=1)
        hold.wait(30)

    broker = grpc_broker_pb2_grpc.GRPCBrokerStub(plugin.channel).StartStream(broker_requests(), timeout=30)
    health = health_pb2_grpc.HealthStub(plugin.channel)
    health.Check(health_pb2.HealthCheckRequest(service=constants.HEALTH_SERVICE), timeout=10)
    assert not broker.done(), "the broker stream must stay open while the host holds it"
    controller = grpc_controller_pb2_grpc.GRPCControllerStub(plugin.channel)
    controller.Shutdown(grpc_controller_pb2.Empty(), timeout=10)
    hold.set()
    assert next(stdio).data == b"shutdown called\n"
    assert plugin.process.wait(timeout=10) == 0
    assert not os.path.exists(plugin.address)
    assert not os.path.exists(os.path.dirname(plugin.address))


def test_sigint_is_ignored_and_sigterm_cleans_up(start_plugin):
    plugin = start_plugin("echo_llm.py")
    plugin.process.send_signal(signal.SIGINT)
    stub = llm_pb2_grpc.LLMProviderStub(plugin.channel)
    assert stub.Initialize(sdk.InitializeRequest(), timeout=10).success
    assert plugin.process.poll() is None
    plugin.process.send_signal(signal.SIGTERM)
    assert plugin.process.wait(timeout=10) == 0
    assert not os.path.exists(os.path.dirname(plugin.address))


def test_plugin_exits_within_5s_when_its_parent_dies(tmp_path):
    # An intermediate process starts the plugin, reports its pid, and is then SIGKILLed.
    parent_script = textwrap.dedent(f"""
        import subprocess, sys
        child = subprocess.Popen([sys.executable, {str(PLUGINS / "echo_llm.py")!r}],
                                 stdout=subprocess.PIPE)
        sys.stdout.write(child.stdout.readline().decode())
        sys.stdout.write(str(child.pid) + "\\n")
        sys.stdout.flush()
        sys.stdin.read()
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_script], env=host_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        handshake = read_line(parent, 30)
        plugin_pid = int(read_line(parent, 10))
        socket_dir = os.path.dirname(handshake.split("|")[3])
        parent.kill()
        parent.wait(timeout=10)

        # Generous bounds: the plugin polls for its parent twice a second, the machine may be slow.
        assert wait_until(lambda: process_gone(plugin_pid), 30.0), "plugin still alive 30 s after its parent died"
        assert wait_until(lambda: not os.path.exists(socket_dir), timeout=30.0)
    finally:
        parent.kill()
        for stream in (parent.stdin, parent.stdout, parent.stderr):
            stream.close()


def test_cancelled_stream_closes_the_provider_generator(start_plugin, tmp_path):
    marker = tmp_path / "closed"
    plugin = start_plugin("async_llm.py")
    stub = llm_pb2_grpc.LLMProviderStub(plugin.channel)
    assert stub.Initialize(sdk.InitializeRequest(config={"marker": str(marker)}), timeout=10).success
    stream = stub.GenerateStreaming(
        sdk.GenerateRequest(messages=[sdk.Message(role="user", content="forever")]), timeout=60)
    assert next(stream).text == "tick0 "
    assert next(stream).text == "tick1 "
    stream.cancel()
    # The file appears (empty) a moment before its text is written: wait for the text.
    assert wait_until(lambda: marker.exists() and marker.read_text() == "closed", timeout=10.0), \
        "generator not closed after cancel"
    # The plugin keeps serving after a cancelled stream.
    assert stub.Generate(sdk.GenerateRequest(messages=[sdk.Message(role="user", content="ok")]),
                         timeout=10).text == "OK"


def test_cancelled_sync_stream_closes_the_generator(start_plugin):
    plugin = start_plugin("echo_llm.py")
    stub = llm_pb2_grpc.LLMProviderStub(plugin.channel)
    stub.Initialize(sdk.InitializeRequest(config={"delay": "0.2"}), timeout=10)
    words = " ".join(f"w{i}" for i in range(200))
    stream = stub.GenerateStreaming(sdk.GenerateRequest(messages=[sdk.Message(role="user", content=words)]),
                                    timeout=60)
    stdio = grpc_stdio_pb2_grpc.GRPCStdioStub(plugin.channel).StreamStdio(empty_pb2.Empty(), timeout=30)
    assert next(stream).text == "w0 "
    stream.cancel()
    assert next(stdio).data == b"stream closed\n"
    stdio.cancel()
