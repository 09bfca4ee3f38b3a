"""What a check works with: the target, the instance the checks share, and fresh instances.

The shared instance is started and initialized (with the config Hector would
send) on first use, and shut down at the end of the run. A check that would
leave an instance broken (cancelled streams, a shutdown, an empty config) asks
for a :meth:`CheckContext.fresh` one instead. A check that needs something
that could not be set up raises :class:`NotReady`, which the runner reports
as ``skip`` with the reason: the check that names the cause fails on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, cast

import grpc

from ..errors import PluginCrashed, PluginError, PluginTimeout
from ..host import Transport
from ..host.rpc import DatabaseStub, EmbedderStub, LLMStub, ProviderStub
from ..plugin import sdk
from .probe import ProcessProbe, observe
from .target import Target

#: Deadline of one call made by a check, in seconds (a well-behaved plugin answers in milliseconds).
CALL_TIMEOUT = 5.0


class NotReady(Exception):
    """A check's prerequisite is missing; the message says which check reports why."""


class CheckContext:
    """Shared by the checks of one run."""

    def __init__(self, target: Target, timeout: float = CALL_TIMEOUT) -> None:
        self.target = target
        self.timeout = timeout
        #: Results of set-up steps that several checks read (e.g. the document-store collection).
        self.cache: dict[str, Any] = {}
        self._shared: Transport | None = None
        self._start_error: str = ""
        self._initialize: sdk.InitializeResponse | PluginError | None = None
        self._probe: ProcessProbe | None = None
        self._fresh: list[Transport] = []

    def provider(self, transport: Transport | None = None) -> ProviderStub:
        """The service of the shared (initialized) instance, or of ``transport``: the methods every provider has.

        Checks pass ``timeout=`` to every call (``self.timeout``, unless a check needs its own).
        """
        return (transport or self.plugin()).stub

    # The check runs the checks of the target's plugin type only (see runner.py): its stub is of that service.

    def llm(self, transport: Transport | None = None) -> LLMStub:
        """:meth:`provider`, as the LLM service."""
        return cast(LLMStub, self.provider(transport))

    def database(self, transport: Transport | None = None) -> DatabaseStub:
        """:meth:`provider`, as the database service."""
        return cast(DatabaseStub, self.provider(transport))

    def embedder(self, transport: Transport | None = None) -> EmbedderStub:
        """:meth:`provider`, as the embedder service."""
        return cast(EmbedderStub, self.provider(transport))

    def _start(self) -> Transport:
        """A new instance of the plugin. Once a start has failed none is tried again: each would wait as
        long for a handshake that does not come, and the check that saw it reports why."""
        if not self._start_error:
            try:
                return self.target.start(self.timeout * 4)
            except PluginError as exc:
                self._start_error = exc.message
        raise NotReady(f"the plugin did not start ({self._start_error})")

    def started(self) -> Transport:
        """The shared instance, started but maybe not initialized yet."""
        if self._shared is None:
            self._shared = self._start()
        return self._shared

    def initialize(self) -> sdk.InitializeResponse | PluginError:
        """The shared instance's one Initialize with the target's config: its reply, or the error."""
        if self._initialize is None:
            transport = self.started()
            try:
                self._initialize = transport.stub.Initialize(sdk.InitializeRequest(config=self.target.config),
                                                             timeout=self.timeout)
            except PluginError as exc:
                self._initialize = exc
        return self._initialize

    def plugin(self) -> Transport:
        """The shared instance, initialized; :class:`NotReady` when it could not be."""
        reply = self.initialize()
        if isinstance(reply, PluginError) or not reply.success:
            raise NotReady("the plugin did not initialize with its config (see initialize_config)")
        assert self._shared is not None
        return self._shared

    def _new_instance(self, initialize: bool) -> Transport:
        """A new instance, started (and initialized with the target's config unless told not to);
        :meth:`close` stops it unless its user does first."""
        transport = self._start()
        self._fresh.append(transport)
        if initialize:
            reply = transport.stub.Initialize(sdk.InitializeRequest(config=self.target.config), timeout=self.timeout)
            if not reply.success:
                raise NotReady("the plugin did not initialize with its config (see initialize_config)")
        return transport

    def _drop(self, transport: Transport) -> None:
        self._fresh.remove(transport)
        _close(transport, self.timeout)

    @contextlib.contextmanager
    def fresh(self, initialize: bool = True) -> Iterator[Transport]:
        """A new instance for one check, stopped afterwards."""
        transport = self._new_instance(initialize)
        try:
            yield transport
        finally:
            self._drop(transport)

    @contextlib.contextmanager
    def reused(self, key: str) -> Iterator[Transport]:
        """An initialized instance kept for the checks naming the same ``key`` (they run one after the
        other), replaced when a check leaves it unable to answer, so one check's damage never fails the
        next. Saves a process start per check."""
        transport = self.cache.get(f"instance:{key}") or self._new_instance(initialize=True)
        self.cache[f"instance:{key}"] = transport
        try:
            yield transport
        finally:
            if self.unresponsive(transport):
                del self.cache[f"instance:{key}"]
                self._drop(transport)

    def unresponsive(self, transport: Transport) -> str:
        """Why ``transport`` does not answer a Health call within the deadline, or "" when it answers
        at all: even a failing Health shows a plugin that is still serving."""
        try:
            transport.stub.Health(sdk.HealthRequest(), timeout=self.timeout)
        except (PluginTimeout, PluginCrashed) as exc:
            return exc.message
        except PluginError as exc:
            if exc.status_code == grpc.StatusCode.UNAVAILABLE:  # the connection is gone
                return exc.message
        return ""

    def probe(self) -> ProcessProbe:
        """What one start of the executable showed (process checks only)."""
        if self._probe is None:
            assert self.target.command is not None
            self._probe = observe(self.target.command, self.target.env, self.target.plugin_type,
                                  self.target.config, self.timeout * 4, self.timeout)
            if self._probe.handshake is None and not self._start_error:  # no instance would start either
                self._start_error = f"{self._probe.start_error or 'its handshake is malformed'}; see handshake"
        return self._probe

    def close(self) -> None:
        """Stop every instance the run started."""
        for transport in [*self._fresh, *([self._shared] if self._shared else [])]:
            _close(transport, self.timeout)
        self._shared = None


def _close(transport: Transport, timeout: float) -> None:
    try:
        transport.stop(timeout)
    except PluginError:
        pass  # a plugin that fails to stop was reported by the check that saw it; it is killed anyway
