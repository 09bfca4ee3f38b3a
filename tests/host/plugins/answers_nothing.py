"""Prints a well-formed handshake naming a socket nobody listens on, then waits to be stopped."""

import os
import sys
import threading

# In the host's socket directory, which the host removes: nothing is left behind.
silent = os.path.join(os.environ["PLUGIN_UNIX_SOCKET_DIR"], "nobody.sock")
sys.stdout.write(f"1|1|unix|{silent}|grpc\n")
sys.stdout.flush()
threading.Event().wait(600)
