"""Sessions: named plugins of one Python process (one kernel): load, call, restart, unload.

:class:`Session` is a set of named plugins; any number can exist.
:func:`kernel_session` is the kernel's one shared Session, which the magics use
and ``hector_nb.session()`` returns.

::

    from hector_nb import Session
    with Session(timeout=30) as s:
        llm = s.load("./plugins/my-llm")              # its .plugin.yaml beside it
        db = s.add("mem", MemoryDatabase())            # a provider object, in-kernel
        s.load_config("hector.yaml")                   # every enabled plugin
        s.list()                                       # a DataFrame
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from . import hector, sdk
from .config import PluginSpec, config_texts, load_hector_config
from .errors import HectorError, InvalidConfig, InvalidInput, PartialLoad, PluginError, PluginNotFound, WrongPluginType
from .hector import Fidelity
from .host import InKernelTransport, InProcessTransport, RestartPolicy, SubprocessTransport, Supervisor, Transport
from .host.clients import CLIENTS, DatabaseClient, EmbedderClient, LLMClient, PluginClient, expect, plugin_type_of
from .host.deadlines import deadline
from .host.transport import TransportKind
from .manifest import PluginManifest, apply_config_schema, manifest_from_provider, manifest_path
from .targets import (
    DatabaseBuiltin,
    EmbedderBuiltin,
    LaunchSpec,
    LLMBuiltin,
    class_launch,
    require_provider,
    resolve,
)

if TYPE_CHECKING:
    import pandas

    from .bridge import Bridge

#: The transports by name, as the strings a user may pass (``TransportKind`` members work too).
TRANSPORTS = tuple(kind.value for kind in TransportKind)
#: A target: ``builtin:NAME``, a plugin executable or its ``.plugin.yaml``, ``MODULE:CLASS``, or a resolved one.
Target = str | os.PathLike[str] | LaunchSpec
ClientType = TypeVar("ClientType", bound=PluginClient)


class Session:
    """The plugins of this process, by name.

    ``timeout`` is the deadline of every call, in seconds (changing it later applies
    to the plugins already loaded); each client method also takes ``timeout=``.
    In-kernel calls are plain function calls with no deadline: the kernel's
    interrupt stops a hung one. ``start_timeout``
    bounds a plugin's start.

    ``fidelity`` is ``"hector"`` (the default: config, roles, handshake and
    ``hector.yaml`` treated as real Hector treats them, with a
    :class:`hector_nb.hector.HectorFidelityWarning` where Hector differs from
    what one might expect) or ``"lenient"`` (every config scalar passed as text,
    the manifest's defaults applied and required keys enforced, stdout before the
    handshake tolerated, roles passed as given). ``load`` and ``add`` take it per plugin too.
    """

    def __init__(self, timeout: float | None = 30.0, start_timeout: float | None = 30.0, max_restarts: int = 3,
                 fidelity: Fidelity | str = Fidelity.HECTOR) -> None:
        self._plugins: dict[str, PluginClient] = {}
        self._bridges: builtins.list[Bridge] = []
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.max_restarts = max_restarts
        self.fidelity = fidelity
        #: Names being loaded right now: a second load of one of them is refused, not raced.
        self._loading: set[str] = set()
        self._names = threading.Lock()

    @property
    def timeout(self) -> float | None:
        """The deadline of every call, in seconds; None (or ``math.inf``) for none; setting it applies to the
        loaded plugins' next calls too. Closing the session still stops every plugin, in bounded steps."""
        return self._timeout

    @timeout.setter
    def timeout(self, seconds: float | None) -> None:
        self._timeout = deadline(seconds, "", "session timeout")
        for client in self._plugins.values():
            client.timeout = self._timeout

    @property
    def start_timeout(self) -> float | None:
        """How long a plugin may take to start, in seconds; None (or ``math.inf``) for no bound."""
        return self._start_timeout

    @start_timeout.setter
    def start_timeout(self, value: float | None) -> None:
        self._start_timeout = deadline(value, "", "session start_timeout")

    @property
    def fidelity(self) -> str:
        """``"hector"`` or ``"lenient"``: the default for plugins loaded from now on."""
        return self._fidelity

    @fidelity.setter
    def fidelity(self, value: Fidelity | str) -> None:
        self._fidelity = hector.fidelity_mode(value)

    def _mode(self, fidelity: Fidelity | str | None) -> str:
        return self._fidelity if fidelity is None else hector.fidelity_mode(fidelity)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __contains__(self, name: str) -> bool:
        return name in self._plugins

    def names(self) -> builtins.list[str]:
        """The names of the loaded plugins, in the order they were loaded."""
        return list(self._plugins)

    # A built-in's name says its type, so `Session().load("builtin:echo").generate("hi")` type-checks; for a
    # path or a class, load_llm / load_database / load_embedder say it.
    @overload
    def load(self, target: LLMBuiltin, name: str | None = ..., config: dict[str, Any] | None = ...,
             transport: TransportKind | str = ..., fidelity: Fidelity | str | None = ...) -> LLMClient: ...

    @overload
    def load(self, target: DatabaseBuiltin, name: str | None = ..., config: dict[str, Any] | None = ...,
             transport: TransportKind | str = ..., fidelity: Fidelity | str | None = ...) -> DatabaseClient: ...

    @overload
    def load(self, target: EmbedderBuiltin, name: str | None = ..., config: dict[str, Any] | None = ...,
             transport: TransportKind | str = ..., fidelity: Fidelity | str | None = ...) -> EmbedderClient: ...

    @overload
    def load(self, target: Target, name: str | None = ..., config: dict[str, Any] | None = ...,
             transport: TransportKind | str = ..., fidelity: Fidelity | str | None = ...) -> PluginClient: ...

    def load(self, target: Target, name: str | None = None, config: dict[str, Any] | None = None,
             transport: TransportKind | str = TransportKind.SUBPROCESS,
             fidelity: Fidelity | str | None = None) -> PluginClient:
        """Start the plugin ``target`` names: ``builtin:NAME``, a plugin executable or its ``.plugin.yaml``, or
        ``MODULE:CLASS`` / ``FILE.py:CLASS`` (see :mod:`hector_nb.targets`).

        By default it runs as a plugin process, as Hector would run it (a
        built-in as its launcher beside its manifest); ``transport="in-kernel"``
        or ``"in-process"`` runs a built-in or a class in this process instead.
        ``name`` defaults to the manifest's name. As in Hector, only the string
        values of ``config`` reach ``Initialize`` (the others are dropped with a
        warning); with ``fidelity="lenient"`` every scalar reaches it as text.
        """
        spec = target if isinstance(target, LaunchSpec) else resolve(target, "load")
        return self._launch(spec, name or spec.name, config, transport, fidelity)

    def load_llm(self, target: Target, name: str | None = None, config: dict[str, Any] | None = None,
                 transport: TransportKind | str = TransportKind.SUBPROCESS,
                 fidelity: Fidelity | str | None = None) -> LLMClient:
        """:meth:`load` an LLM plugin; :class:`~hector_nb.errors.WrongPluginType`, before any start, for another."""
        return self._load_as(LLMClient, target, name, config, transport, fidelity)

    def load_database(self, target: Target, name: str | None = None, config: dict[str, Any] | None = None,
                      transport: TransportKind | str = TransportKind.SUBPROCESS,
                      fidelity: Fidelity | str | None = None) -> DatabaseClient:
        """:meth:`load` a vector database plugin; :class:`~hector_nb.errors.WrongPluginType` for another kind."""
        return self._load_as(DatabaseClient, target, name, config, transport, fidelity)

    def load_embedder(self, target: Target, name: str | None = None, config: dict[str, Any] | None = None,
                      transport: TransportKind | str = TransportKind.SUBPROCESS,
                      fidelity: Fidelity | str | None = None) -> EmbedderClient:
        """:meth:`load` an embedder plugin; :class:`~hector_nb.errors.WrongPluginType` for another kind."""
        return self._load_as(EmbedderClient, target, name, config, transport, fidelity)

    def _load_as(self, kind: type[ClientType], target: Target, name: str | None, config: dict[str, Any] | None,
                 transport: TransportKind | str, fidelity: Fidelity | str | None) -> ClientType:
        spec = target if isinstance(target, LaunchSpec) else resolve(target, "load")
        wanted = plugin_type_of(kind)
        if spec.plugin_type != wanted:
            actual = spec.plugin_type or "plugin of no known type"
            raise WrongPluginType.mismatch(name or spec.name, "load", actual, wanted)
        return expect(self._launch(spec, name or spec.name, config, transport, fidelity), kind, "load")

    def _launch(self, spec: LaunchSpec, name: str, config: dict[str, Any] | None, transport: TransportKind | str,
                fidelity: Fidelity | str | None) -> PluginClient:
        mode = self._mode(fidelity)
        kind = transport_kind(transport, name, "load")
        if kind is not TransportKind.SUBPROCESS:
            if spec.provider_class is None:
                raise InvalidInput(name, "load", f"a plugin executable runs as a subprocess; to run a provider "
                                   f"{kind}, pass its object to session.add(name, provider), or load "
                                   "builtin:NAME or MODULE:CLASS")
            return self.add(name, spec.provider_class(), transport=kind, config=config, fidelity=mode)
        assert spec.manifest is not None and spec.plugin_type is not None  # resolved strictly
        # hector_nb's SDK servicer applies a provider class's config_defaults itself: no warning for those.
        applies_defaults = spec.provider_class is not None or serves_with_sdk(spec.command[-1])
        texts = _initialize_config(spec.manifest, config, name, mode, plugin_applies_defaults=applies_defaults)
        with self._reserved(name):
            channel = SubprocessTransport(name, spec.plugin_type, spec.command, self.start_timeout, env=spec.env,
                                          strict_stdout=mode == hector.HECTOR)
            return self._register(channel, texts, spec.manifest, mode)

    # The client's type follows the provider's, so `session.add("x", MyLLM()).stream(...)` type-checks.
    @overload
    def add(self, name: str, provider: sdk.LLMProvider, transport: TransportKind | str = ...,
            config: dict[str, Any] | None = ..., fidelity: Fidelity | str | None = ...) -> LLMClient: ...

    @overload
    def add(self, name: str, provider: sdk.DatabaseProvider, transport: TransportKind | str = ...,
            config: dict[str, Any] | None = ..., fidelity: Fidelity | str | None = ...) -> DatabaseClient: ...

    @overload
    def add(self, name: str, provider: sdk.EmbedderProvider, transport: TransportKind | str = ...,
            config: dict[str, Any] | None = ..., fidelity: Fidelity | str | None = ...) -> EmbedderClient: ...

    @overload
    def add(self, name: str, provider: sdk.Provider, transport: TransportKind | str = ...,
            config: dict[str, Any] | None = ..., fidelity: Fidelity | str | None = ...) -> PluginClient: ...

    def add(self, name: str, provider: sdk.Provider, transport: TransportKind | str = TransportKind.IN_KERNEL,
            config: dict[str, Any] | None = None, fidelity: Fidelity | str | None = None) -> PluginClient:
        """Register a provider object under ``name``: ``in-kernel`` (direct calls), ``in-process``
        (the SDK server in a thread, real stubs) or ``subprocess`` (its class served as a plugin).

        ``config`` and ``fidelity`` as for :meth:`load`."""
        mode = self._mode(fidelity)
        require_provider(provider, name, "add")
        manifest = manifest_from_provider(provider)
        texts = _initialize_config(manifest, config, name, mode, plugin_applies_defaults=True)
        kind = transport_kind(transport, name, "add")
        with self._reserved(name):
            if kind is TransportKind.IN_KERNEL:
                channel: Transport = InKernelTransport(name, provider)
            elif kind is TransportKind.IN_PROCESS:
                channel = InProcessTransport(name, provider, self.start_timeout)
            else:
                command, env = class_launch(type(provider), "add")
                channel = SubprocessTransport(name, provider.plugin_type, command, self.start_timeout, env=env,
                                              strict_stdout=mode == hector.HECTOR)
            channel.provider = provider
            return self._register(channel, texts, manifest, mode)

    @contextlib.contextmanager
    def _reserved(self, name: str) -> Iterator[None]:
        """Hold ``name`` while its plugin starts: of two loads under one name, the second is refused at once."""
        with self._names:
            if name in self._plugins:
                raise PluginError(name, "load", f"a plugin named {name!r} is loaded already; unload it first "
                                  "or pass another name")
            if name in self._loading:
                raise PluginError(name, "load", f"a plugin named {name!r} is being loaded right now (by another "
                                  "thread); wait for it, or pass another name")
            self._loading.add(name)
        try:
            yield
        finally:
            with self._names:
                self._loading.discard(name)

    def _register(self, transport: Transport, config: dict[str, str], manifest: PluginManifest,
                  mode: str) -> PluginClient:
        supervisor = Supervisor(transport, RestartPolicy(self.max_restarts))
        client = CLIENTS[transport.plugin_type](supervisor, self.timeout, manifest, fidelity=mode)
        try:
            client.initialize(config)
        except BaseException:
            supervisor.close(self.timeout)
            raise
        self._plugins[transport.name] = client
        return client

    def load_config(self, path: str | os.PathLike[str], fidelity: Fidelity | str | None = None) -> list[PluginClient]:
        """Load every enabled plugin a ``hector.yaml`` declares (and any it discovers).

        In ``hector`` fidelity the file is validated as Hector does (every entry
        needs ``name:``; a config Hector refuses to start with is refused with
        Hector's message, see :func:`hector_nb.config.load_hector_config`) and a
        config key that differs from the plugin's manifest name brings a warning.

        As Hector does, one broken plugin does not stop the others: every good
        plugin is loaded, then :class:`~hector_nb.errors.PartialLoad` names each
        one that failed and why (an error, not a warning, so that no later cell
        runs on a session that silently lacks a plugin). Run ``load_config``
        again once it is fixed: a plugin already loaded from the same
        executable under the same name is kept, not loaded twice.
        """
        mode = self._mode(fidelity)
        settings = load_hector_config(path, fidelity=mode)
        loaded: list[PluginClient] = []
        failures: dict[str, HectorError] = {}
        for spec in settings.plugins:
            try:
                loaded.append(self._load_spec(spec, mode))
            except HectorError as exc:
                failures[spec.name] = exc
        if settings.discovery.enabled:
            from .manifest import discover

            for entry in discover(settings.discovery.paths, settings.discovery.scan_subdirectories):
                if entry.valid and entry.type in CLIENTS and entry.name not in self._plugins \
                        and entry.name not in failures:
                    try:
                        loaded.append(self.load(entry.executable, name=entry.name, fidelity=mode))
                    except HectorError as exc:
                        failures[entry.name] = exc
        if failures:
            lines = "; ".join(f"{name}: {error}" for name, error in failures.items())
            kept = ", ".join(client.name for client in loaded) or "none"
            raise PartialLoad("load_config", f"{len(failures)} of {len(failures) + len(loaded)} plugins of "
                              f"{settings.source} failed to load ({lines}); the others are loaded, as Hector "
                              f"loads them ({kept}); fix the failed ones and run load_config again",
                              loaded, failures)
        return loaded

    def _load_spec(self, spec: PluginSpec, mode: str) -> PluginClient:
        """The plugin ``spec`` declares: the one already loaded from its executable under its name, or a new one."""
        kept = self._kept(spec.name, spec.path)
        if kept is not None:
            return kept
        # A hector.yaml names files only: resolved as a path, never as builtin:NAME or MODULE:CLASS.
        target = resolve(Path(spec.path), "load")
        if target.plugin_type != spec.plugin_type:
            raise InvalidConfig(spec.name, "load", f"{spec.source}: listed as a {spec.plugin_type} but its "
                                f"manifest says {target.plugin_type}; move it to the right section")
        if mode == hector.HECTOR and spec.name != target.name:
            hector.warn_config_key_differs(spec.name, target.name)
        return self.load(target, name=spec.name, config=spec.config, fidelity=mode)

    def _kept(self, name: str, path: str | os.PathLike[str]) -> PluginClient | None:
        """The plugin loaded as ``name`` from the executable ``path`` (or its manifest), if there is one."""
        client = self._plugins.get(name)
        if client is None or client.manifest.path is None:
            return None
        return client if manifest_path(path).resolve() == client.manifest.path.resolve() else None

    def get(self, name: str) -> PluginClient:
        """The plugin loaded under ``name``."""
        try:
            return self._plugins[name]
        except KeyError:
            known = ", ".join(self._plugins) or "none"
            raise PluginNotFound(name, "get", f"no plugin named {name!r} is loaded (loaded: {known}); "
                                 "load it first") from None

    def llm(self, name: str) -> LLMClient:
        """The LLM plugin loaded under ``name``; :class:`~hector_nb.errors.WrongPluginType` if it is another kind."""
        return expect(self.get(name), LLMClient)

    def database(self, name: str) -> DatabaseClient:
        """The vector database plugin loaded under ``name``."""
        return expect(self.get(name), DatabaseClient)

    def embedder(self, name: str) -> EmbedderClient:
        """The embedder plugin loaded under ``name``."""
        return expect(self.get(name), EmbedderClient)

    def list(self) -> pandas.DataFrame:
        """The loaded plugins: name, type, transport, pid, status, version, restarts."""
        import pandas

        columns = ["name", "type", "transport", "pid", "status", "version", "restarts"]
        rows = [
            {"name": c.name, "type": c.plugin_type, "transport": c.transport, "pid": c.pid, "status": c.status,
             "version": c.manifest.version, "restarts": c.restarts}
            for c in self._plugins.values()
        ]
        return pandas.DataFrame(rows, columns=columns).astype({"pid": "Int64", "restarts": "int64"})

    def unload(self, name: str) -> None:
        """Shut the plugin down and forget it."""
        with self._names:
            client = self.get(name)
            del self._plugins[name]
        client.shutdown()

    def check(self, name: str, only: Sequence[str] | None = None) -> pandas.DataFrame:
        """The conformance check of the plugin ``name``, run on fresh instances started the same way
        (see :func:`hector_nb.conformance.check`): a DataFrame, one row per check, with its summary."""
        from .conformance import check

        return check(self.get(name), only=only)

    def restart(self, name: str) -> PluginClient:
        """Restart the plugin with its last config."""
        client = self.get(name)
        client.restart()
        return client

    def serve(self, names: Sequence[str] | str | None = None, port: int = 0, host: str = "127.0.0.1",
              api_key: str | None = None, tls: bool = False) -> Bridge:
        """Serve plugins over the Ollama and OpenAI HTTP APIs, and databases as Hector's ``milvus`` vector
        store, for stock Hector (docs/bridge.md, docs/store_bridge.md).

        ``names`` (a list, or one name) must be loaded
        LLMs, embedders or vector databases; None serves every plugin of the session, as they come
        and go. Each request looks its model up here, so a provider loaded again
        under the same name answers the next request. ``port`` 0 picks a free one;
        a ``host`` other than loopback needs ``api_key``. Returns the running
        :class:`~hector_nb.bridge.Bridge` (``.url``, ``.log``, ``.stop()``), which
        :meth:`close` stops too. ``tls=True`` serves HTTPS with a certificate made on the
        fly (Hector v1's vector store needs it; the bridge's ``ca_certificate`` is its file).
        """
        from .bridge import start_bridge

        if isinstance(names, str):
            if "," in names:  # the magic's syntax; the library takes a list, as evaluate does
                raise TypeError(f"serve takes a list of names, e.g. {[n.strip() for n in names.split(',')]!r}, "
                                f"not the text {names!r}")
            names = [names]
        for name in names or ():
            self.get(name)  # a name not loaded fails now, not at the first request
        bridge = start_bridge(self, names, port=port, host=host, api_key=api_key, tls=tls)
        self._bridges.append(bridge)
        return bridge

    @property
    def bridges(self) -> builtins.list[Bridge]:
        """The bridges :meth:`serve` started that still run, oldest first."""
        self._bridges = [bridge for bridge in self._bridges if bridge.running]
        return list(self._bridges)

    def close(self) -> None:
        """Stop this session's bridges and shut every plugin down."""
        for bridge in self.bridges:
            bridge.stop()
        failures = []
        for name in list(self._plugins):
            try:
                self.unload(name)
            except PluginError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]


def transport_kind(value: TransportKind | str, plugin: str, operation: str) -> TransportKind:
    """``value`` (a :class:`~hector_nb.host.transport.TransportKind` or its text) as a transport kind;
    :class:`~hector_nb.errors.InvalidInput` naming the accepted ones otherwise."""
    try:
        return TransportKind(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(plugin, operation, f"unknown transport {value!r}; use one of {', '.join(TRANSPORTS)} "
                           "(or hector_nb.TransportKind)") from None


def _initialize_config(manifest: PluginManifest, config: dict[str, Any] | None, name: str,
                       mode: str, plugin_applies_defaults: bool) -> dict[str, str]:
    """What ``Initialize`` receives: as Hector sends it, or (lenient) every scalar as text with the
    manifest's defaults applied and its required keys enforced.

    A provider object runs behind hector_nb's SDK servicer, which applies its class's
    ``config_defaults`` itself, so only an executable's unapplied defaults are worth a warning.
    """
    if mode == hector.LENIENT:
        return apply_config_schema(manifest, config_texts(config, name), name)
    defaults = {} if plugin_applies_defaults else manifest.config_defaults
    return hector.initialize_config(name, config, manifest.config_required, defaults)


#: How a launcher serving through hector_nb's SDK (built-in, exported or hand-written) starts its server.
_SDK_SERVE = re.compile(rb"\bserve_(?:llm_|database_|embedder_)?plugin\(")
#: How much of an executable is read to tell a hector_nb SDK launcher (a few KB) from anything else.
_LAUNCHER_BYTES = 64 * 1024


def serves_with_sdk(executable: str | os.PathLike[str]) -> bool:
    """Whether ``executable`` is a Python launcher serving through hector_nb's SDK, whose servicer applies
    the provider's ``config_defaults`` itself (so a manifest default it lacks is no cause for a warning)."""
    try:
        with open(executable, "rb") as file:
            head = file.read(_LAUNCHER_BYTES)
    except OSError:
        return False
    return head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0] and bool(_SDK_SERVE.search(head))


_kernel_session: Session | None = None


def kernel_session() -> Session:
    """This process's (this kernel's) one Session, created on first use: ``hector_nb.session()``.

    The ``%hector`` magics use it too, so plugins loaded by a magic are there for code, and back.
    """
    global _kernel_session
    if _kernel_session is None:
        _kernel_session = Session()
    return _kernel_session


def close_kernel_session() -> None:
    """Shut the kernel's Session down (``%unload_ext hector_nb``); the next :func:`kernel_session` is new."""
    global _kernel_session
    if _kernel_session is not None:
        _kernel_session.close()
        _kernel_session = None
