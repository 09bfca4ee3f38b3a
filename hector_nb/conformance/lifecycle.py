"""Lifecycle checks, for every plugin type: manifest, Initialize, Health, GetStatus, GetManifest, Shutdown.

Hector calls Initialize when it loads a plugin and Shutdown, without a deadline,
when it unloads it; it never calls Health, GetStatus or GetManifest, so their
checks only warn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import yaml

from ..errors import InvalidManifest, PluginError, PluginTimeout
from ..manifest import parse_manifest, read_manifest
from ..plugin import sdk
from .base import Outcome, Stage, Verdict, check, failed, passed, skipped, warned
from .context import CheckContext

_NEVER_FAIL = ("lifecycle RPCs answer success=false with an error text; they never fail at the gRPC level "
               "(return the response, do not raise or return an error status)")


_MANIFEST_FIX = ("give the manifest name, version, type (llm_provider, database_provider or embedder_provider) and "
                 "protocol: grpc, beside an executable file with its execute bit")


@check("manifest", "the .plugin.yaml passes Hector's discovery rules",
       stage=Stage.LIFECYCLE, blocks_loading=True, fix=_MANIFEST_FIX)
def manifest(ctx: CheckContext) -> Outcome:
    target = ctx.target
    if target.manifest_file is None:
        assert target.manifest is not None
        data = yaml.safe_load(target.manifest.to_yaml())
        try:
            parse_manifest(data, Path(f"{target.name}.plugin.yaml"), check_executable=False)
        except InvalidManifest as exc:
            return failed(f"the manifest the provider declares is invalid: {exc.message}",
                          "set the class attributes name and version (see hector_nb.sdk.Provider)")
        return passed("the manifest the provider declares is valid (%hector export writes it as .plugin.yaml)")
    try:
        found = read_manifest(target.manifest_file)
    except InvalidManifest as exc:
        return failed(f"Hector's discovery would reject it: {exc.message}")
    if found.name != target.name:
        return warned(f"{target.manifest_file.name} names the plugin {found.name!r} but it is loaded as "
                      f"{target.name!r}; Hector unloads plugins by manifest name, so shutting it down fails "
                      "with 'plugin not found'",
                      f"name the hector.yaml entry {found.name!r} (or change the manifest's name)")
    return passed(f"{target.manifest_file.name}: {found.name} {found.version}, {found.type}")


def _initialize_outcome(reply: sdk.InitializeResponse | PluginError, what: str) -> Outcome:
    if isinstance(reply, PluginError):
        return failed(f"Initialize with {what} failed at the gRPC level: {reply.message}", _NEVER_FAIL)
    if not reply.success:
        return failed(f"Initialize with {what} answered success=false: {reply.error or '(no error text)'}",
                      "accept every config value as text (Hector sends only strings) and report a problem in "
                      "the error field, naming the key")
    return passed(f"Initialize with {what} succeeded")


@check("initialize_config", "Initialize succeeds with the config as Hector sends it (string values only)",
       stage=Stage.LIFECYCLE, blocks_loading=True,
       fix="accept every config value as text: Hector passes only strings and drops numbers and booleans")
def initialize_config(ctx: CheckContext) -> Outcome:
    keys = ", ".join(sorted(ctx.target.config)) or "nothing"
    return _initialize_outcome(ctx.initialize(), f"the config ({keys})")


@check("initialize_empty_config", "Initialize with no config at all (Hector applies no defaults) is handled",
       stage=Stage.LIFECYCLE,
       fix="handle missing keys in initialize() (config.get(key, default)): Hector ignores config_schema")
def initialize_empty_config(ctx: CheckContext) -> Outcome:
    if not ctx.target.config:
        return skipped("the plugin's config is empty already (see initialize_config)")
    with ctx.fresh(initialize=False) as instance:
        try:
            reply = ctx.provider(instance).Initialize(sdk.InitializeRequest(config={}), timeout=ctx.timeout)
        except PluginError as exc:
            return failed(f"Initialize with no config failed at the gRPC level: {exc.message}", _NEVER_FAIL)
    if reply.success:
        return passed("Initialize with no config succeeded")
    if reply.error:
        return warned(f"Initialize with no config answered: {reply.error}; Hector starts the plugin with no "
                      "config when hector.yaml gives none (defaults in config_schema are not applied)",
                      "fall back to defaults in initialize(), or keep this clear error if the key is truly required")
    return failed("Initialize with no config answered success=false without an error text",
                  "say which key is missing in the error field")


#: Hector never calls these three: a fault in them is worth knowing, never a reason to fail.
_NEVER_CALLED = "Hector never calls {rpc}, so this is informational"
#: A Shutdown slower than this, in seconds, is a warning: Hector's unload (and exit) waits for it.
SLOW_SHUTDOWN = 2.0


def _informational(rpc: str, run: Callable[[], Outcome]) -> Outcome:
    """``run()``'s outcome, a failure (or a gRPC error) turned into a warning: Hector never calls ``rpc``."""
    note = _NEVER_CALLED.format(rpc=rpc)
    try:
        outcome = run()
    except PluginError as exc:
        return warned(f"{rpc} failed: {exc.message}; {note}", _NEVER_FAIL)
    if outcome.verdict in (Verdict.WARN, Verdict.FAIL):
        return warned(f"{outcome.happened}; {note}", outcome.fix)
    return outcome


@check("health", "Health answers healthy once initialized (informational: Hector never calls it)",
       stage=Stage.LIFECYCLE, fix=_NEVER_FAIL)
def health(ctx: CheckContext) -> Outcome:
    def run() -> Outcome:
        reply = ctx.provider().Health(sdk.HealthRequest(), timeout=ctx.timeout)
        if not reply.healthy:
            return warned(f"Health answered healthy=false ({reply.message or 'no message'}) after a successful "
                          "Initialize", "answer healthy=true once the provider can serve, with a message saying "
                          "why when not")
        return passed(f"healthy ({reply.message or 'no message'})")

    return _informational("Health", run)


@check("get_status", "GetStatus answers one of Hector's statuses, 'ready' once initialized (informational: "
       "Hector never calls it)", stage=Stage.LIFECYCLE, fix="answer GetStatus with 'ready' (as Hector's SDK does)")
def get_status(ctx: CheckContext) -> Outcome:
    def run() -> Outcome:
        status = ctx.provider().GetStatus(sdk.StatusRequest(), timeout=ctx.timeout).status
        if status not in sdk.STATUSES:
            return failed(f"GetStatus answered {status!r}, which is none of {', '.join(sdk.STATUSES)}",
                          "answer 'ready' once initialized (Hector's SDK always does)")
        if status != "ready":
            return warned(f"GetStatus answered {status!r} after a successful Initialize",
                          "answer 'ready' once initialized")
        return passed("ready")

    return _informational("GetStatus", run)


@check("get_manifest", "GetManifest answers, and agrees with the .plugin.yaml when it is not empty "
       "(informational: Hector never calls it)",
       stage=Stage.LIFECYCLE, fix="implement GetManifest: an empty ManifestResponse is fine (Hector's SDK sends "
                                  "one; Hector keeps the .plugin.yaml)")
def get_manifest(ctx: CheckContext) -> Outcome:
    def run() -> Outcome:
        reply = ctx.provider().GetManifest(sdk.ManifestRequest(), timeout=ctx.timeout)
        declared = ctx.target.manifest
        if not any((reply.name, reply.version, reply.type)):
            return passed("an empty manifest, as Hector's SDK answers; Hector keeps the .plugin.yaml")
        if declared is None:
            return skipped("no readable .plugin.yaml to compare with (see manifest)")
        differences = [f"{field} {getattr(reply, field)!r} vs {getattr(declared, field)!r}"
                       for field in ("name", "version", "type")
                       if getattr(reply, field) and getattr(reply, field) != getattr(declared, field)]
        if differences:
            return warned(f"GetManifest disagrees with the manifest: {'; '.join(differences)}; Hector believes "
                          "the .plugin.yaml", "answer the same facts as the .plugin.yaml (or an empty manifest)")
        return passed(f"{reply.name} {reply.version}, {reply.type}: as in the manifest")

    return _informational("GetManifest", run)


def shutdown_bound(timeout: float) -> float:
    """How long the shutdown check waits for Shutdown, in seconds: Hector itself waits without a deadline."""
    return 6 * timeout


@check("shutdown", "Shutdown answers success, promptly: Hector calls it without a deadline when it unloads the "
       "plugin, and waits", stage=Stage.FINAL, fix=_NEVER_FAIL)
def shutdown(ctx: CheckContext) -> Outcome:
    bound = shutdown_bound(ctx.timeout)
    began = time.monotonic()
    try:
        reply = ctx.provider().Shutdown(sdk.ShutdownRequest(), timeout=bound)
    except PluginTimeout:
        return failed(f"Shutdown did not return within {bound:g}s; Hector calls it without a deadline, so "
                      "unloading this plugin, and Hector's exit, would hang",
                      "return from Shutdown promptly: stop background work with a bounded wait")
    took = time.monotonic() - began
    if not reply.success:
        return warned(f"Shutdown answered success=false after {took:.2f}s: {reply.error or '(no error text)'}",
                      "release what you can and answer success=true; report real problems in error")
    if took > SLOW_SHUTDOWN:
        return warned(f"Shutdown took {took:.2f}s; Hector waits for it (no deadline), so unloading the plugin "
                      "and Hector's exit take as long", "return from Shutdown promptly: bound its waits")
    return passed(f"Shutdown succeeded in {took:.2f}s")
