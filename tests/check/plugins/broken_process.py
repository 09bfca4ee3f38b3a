#!/usr/bin/env python3
"""An embedder plugin served by hand (grpcio, not hector_nb's serve) with one process fault:
``broken_process.py FAULT``. ``good`` serves as go-plugin expects, minus GRPCStdio and the broker
(a host tolerates their absence)."""

import os
import signal
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from hector_nb import sdk
from hector_nb.plugin._wire import grpc_controller_pb2, grpc_controller_pb2_grpc
from hector_nb.plugin.servicers import add_to_server, servicer_for

FAULT = sys.argv[1]


class Letters(sdk.EmbedderProvider):
    def embed(self, text):
        return [float(text.count(letter)) for letter in "aeiou"]

    def get_embedder_info(self):
        return sdk.EmbedderInfo(model_name="vowels", dimension=5)


class Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
    def __init__(self, stop):
        self.stop = stop

    def Shutdown(self, request, context):
        self.stop.set()
        return grpc_controller_pb2.Empty()


def main():
    if os.environ.get("HECTOR_PLUGIN") != "hector_plugin_v1" and FAULT != "ignores_cookie":
        sys.exit("this binary is a plugin, run it through Hector")
    if FAULT == "slow_start":
        time.sleep(3.5)  # loads "a model" before serving
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    add_to_server(server, servicer_for(Letters()))
    checker = health.HealthServicer()
    if FAULT != "no_health":
        checker.set("plugin", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    if FAULT != "no_controller":
        grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(Controller(stop), server)
    socket = os.path.join(tempfile.mkdtemp(dir=os.environ.get("PLUGIN_UNIX_SOCKET_DIR")), "plugin.sock")
    server.add_insecure_port(f"unix:{socket}")
    server.start()
    app_version = 2 if FAULT == "bad_version" else 1
    handshake = f"1|{app_version}|unix|{socket}|grpc"
    if FAULT == "unterminated_handshake":
        sys.stdout.write(handshake)  # no newline: the next print runs into the handshake line
        print("serving embeddings", flush=True)
    else:
        print(handshake, flush=True)
    if FAULT == "raw_stdout":
        print("serving embeddings", flush=True)  # after the handshake, on raw stdout
    stop.wait()
    server.stop(grace=0.2).wait(5)
    os._exit(0)


if __name__ == "__main__":
    main()
