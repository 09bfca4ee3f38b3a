"""Process checks: the plugin executable as go-plugin's host starts, calls and stops it."""

from __future__ import annotations

from .base import Outcome, Stage, check, failed, passed, skipped, warned
from .context import CheckContext
from .probe import CONTROLLER_GRACE, without_cookie

#: A start-up slower than this is worth a warning: Hector starts every plugin before it serves.
SLOW_START_SECONDS = 3.0


def _quote(lines: list[str], limit: int = 3) -> str:
    shown = "; ".join(repr(line[:120]) for line in lines[:limit])
    return shown + (f" (and {len(lines) - limit} more)" if len(lines) > limit else "")


@check("handshake", "one well-formed go-plugin handshake line (1|1|unix|/path|grpc) on stdout",
       stage=Stage.PROCESS, needs_process=True, blocks_loading=True,
       fix="serve through hector_nb.sdk.serve_*_plugin or go-plugin's plugin.Serve with Hector's handshake "
           "(core 1, app 1, HECTOR_PLUGIN=hector_plugin_v1, protocol grpc); they print the line for you")
def handshake(ctx: CheckContext) -> Outcome:
    probe = ctx.probe()
    if probe.handshake_line is None:
        printed = f"; stdout had {_quote(probe.before)}" if probe.before else ""
        return failed(f"{probe.start_error}{printed}; stderr: {probe.stderr_tail()}",
                      "print one handshake line, CORE|APP|NETWORK|ADDRESS|grpc, and flush it once the gRPC "
                      "server listens; serve_*_plugin (Python) or plugin.Serve (Go) do it for you")
    if probe.printed_into_handshake:
        return skipped("the handshake line ran into later output (see stdout_after_handshake)")
    if probe.handshake is None:
        return failed(f"handshake {probe.handshake_line!r} is malformed: {probe.handshake_error}",
                      "print CORE|APP|NETWORK|ADDRESS|grpc with core protocol 1, app protocol 1, network unix "
                      "or tcp and protocol grpc")
    return passed(f"{probe.handshake_line!r}")


@check("stdout_before_handshake", "nothing on stdout before the handshake line",
       stage=Stage.PROCESS, needs_process=True, blocks_loading=True,
       fix="write start-up messages to stderr (print(..., file=sys.stderr), or log.Println in Go), never "
           "to stdout before serving")
def stdout_before_handshake(ctx: CheckContext) -> Outcome:
    probe = ctx.probe()
    if probe.handshake_line is None:
        return skipped("no handshake came (see handshake)")
    if probe.before:
        return failed(f"printed {_quote(probe.before)} before its handshake: go-plugin stops at the first line "
                      "('Unrecognized remote plugin message') and Hector says only 'provider not found'",
                      "write start-up messages to stderr (print(..., file=sys.stderr), log.Println in Go), "
                      "never to stdout before serving")
    return passed("the handshake was the first line on stdout")


@check("health_serving", "grpc.health.v1.Health reports the service 'plugin' SERVING",
       stage=Stage.PROCESS, needs_process=True, blocks_loading=True,
       fix="register the standard gRPC health service with service 'plugin' set to SERVING "
           "(hector_nb's serve and go-plugin's plugin.Serve do it)")
def health_serving(ctx: CheckContext) -> Outcome:
    probe = ctx.probe()
    if probe.handshake is None:
        return skipped("no usable handshake (see handshake)")
    if probe.health != "SERVING":
        return failed(f"health check of 'plugin' answered {probe.health}; go-plugin's host pings it and "
                      "gives up on the plugin",
                      "register grpc.health.v1.Health with service 'plugin' SERVING (grpcio-health-checking: "
                      "HealthServicer().set('plugin', SERVING))")
    return passed("'plugin' is SERVING")


@check("stdout_after_handshake", "what the plugin prints after its handshake corrupts nothing",
       stage=Stage.PROCESS, needs_process=True, blocks_loading=True,
       fix="print to stderr, or serve through hector_nb's SDK or go-plugin, which carry print() over GRPCStdio")
def stdout_after_handshake(ctx: CheckContext) -> Outcome:
    probe = ctx.probe()
    if probe.printed_into_handshake:
        return failed(f"the handshake line was not ended, so what the plugin printed next ran into it: "
                      f"{probe.handshake_line!r}; go-plugin reads protocol "
                      f"'grpc{probe.printed_into_handshake}' and refuses the plugin",
                      "end the handshake line with a newline and flush it before anything else is printed; "
                      "print everything else to stderr")
    if probe.health != "SERVING":
        return skipped("the plugin was not serving (see health_serving)")
    calls = ", ".join(probe.calls) or "no calls"
    if probe.health_after_calls != "SERVING":
        return failed(f"after {calls} the plugin stopped serving ({probe.health_after_calls}); "
                      f"stderr: {probe.stderr_tail()}",
                      "keep stdout open and never write to a closed stream; print to stderr, or let the SDK "
                      "carry print() over GRPCStdio")
    if probe.after:
        return warned(f"printed {_quote(probe.after)} on raw stdout after the handshake (during {calls}); "
                      "go-plugin reads and discards it, so nobody sees it under Hector")
    carried = f"; {probe.stdio_bytes} bytes came over GRPCStdio" if probe.stdio_bytes else ""
    return passed(f"still serving after {calls}; nothing on raw stdout{carried}")


@check("startup_time", "the handshake comes promptly after the process starts",
       stage=Stage.PROCESS, needs_process=True,
       fix="defer slow work (loading models, connecting) to Initialize or to the first call")
def startup_time(ctx: CheckContext) -> Outcome:
    probe = ctx.probe()
    if probe.startup_seconds is None:
        return skipped("no handshake came (see handshake)")
    took = f"handshake after {probe.startup_seconds:.2f}s"
    if probe.startup_seconds > SLOW_START_SECONDS:
        return warned(f"{took}; Hector starts every plugin before it serves, so each second delays it",
                      "import heavy modules lazily and load models in Initialize or on first use")
    return passed(took)


@check("controller_shutdown", "the process exits promptly when go-plugin calls GRPCController.Shutdown (after "
       "Hector's Shutdown RPC, as Hector unloads a plugin)",
       stage=Stage.PROCESS, needs_process=True,
       fix="serve plugin.GRPCController and exit when its Shutdown is called (hector_nb's serve and "
           "go-plugin do it)")
def controller_shutdown(ctx: CheckContext) -> Outcome:
    probe = ctx.probe()
    if probe.health != "SERVING":
        return skipped("the plugin was not serving (see health_serving)")
    if not probe.shutdown_returned:
        return skipped("the plugin's Shutdown, which Hector calls first, did not return (see shutdown)")
    if probe.controller_error:
        return failed(f"GRPCController.Shutdown failed ({probe.controller_error}); Hector then waits and kills "
                      "the plugin, and its Shutdown work is lost",
                      "register plugin.GRPCController and exit once its Shutdown returns")
    if probe.exit_seconds is None or probe.exit_seconds > CONTROLLER_GRACE:
        waited = "did not exit" if probe.exit_seconds is None else f"took {probe.exit_seconds:.2f}s to exit"
        return failed(f"{waited} after GRPCController.Shutdown; go-plugin kills a plugin still running after "
                      f"{CONTROLLER_GRACE:g}s", "exit at once when GRPCController.Shutdown is called: stop the "
                      "server without a long grace period and end non-daemon threads")
    return passed(f"exited {probe.exit_seconds:.2f}s after GRPCController.Shutdown (code {probe.exit_code})")


_COOKIE_FIX = ("check HECTOR_PLUGIN=hector_plugin_v1 first; without it write 'this binary is a plugin, run it "
               "through Hector' to stderr and exit 1 (go-plugin's plugin.Serve and hector_nb's serve do it)")


@check("cookie", "run by hand (without Hector's cookie), it says so on stderr and exits",
       stage=Stage.PROCESS, needs_process=True, fix=_COOKIE_FIX)
def cookie(ctx: CheckContext) -> Outcome:
    assert ctx.target.command is not None
    if ctx.probe().handshake is None:  # a plugin that does not start with the cookie says nothing without it
        return skipped("the plugin did not start with the cookie either (see handshake)")
    facts, exited = without_cookie(ctx.target.command, ctx.target.env, ctx.timeout * 2)
    if exited is None:
        return skipped(facts.start_error)
    if facts.handshake_line is not None:
        return warned(f"served without the cookie ({facts.handshake_line!r}); whoever runs it by hand gets a "
                      "silent process")
    if not exited:
        return warned(f"still running {ctx.timeout * 2:g}s after a start without the cookie; stderr: "
                      f"{facts.stderr_tail()}")
    if facts.exit_code == 0 or not facts.stderr:
        return warned(f"exited with code {facts.exit_code} and {facts.stderr_tail()}")
    return passed(f"exited with code {facts.exit_code}: {facts.stderr[0].strip()[:100]}")
