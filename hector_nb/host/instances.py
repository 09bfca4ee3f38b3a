"""Fresh instances of a provider object, so that the host never reuses the one a user holds.

A restart, the conformance check and an evaluation sweep each need the
provider as it was made, not as the user's calls left it. A provider remembers
the arguments it was made with (:class:`hector_nb.sdk.Provider` records them),
so a fresh one is its class called again with them.
"""

from __future__ import annotations

from ..errors import PluginError
from ..plugin import sdk


def fresh_provider(provider: sdk.Provider, plugin: str, operation: str) -> sdk.Provider:
    """A new instance of ``provider``'s class, made with the arguments ``provider`` was made with.

    Raises :class:`PluginError` when the constructor fails: the caller must then
    say so rather than fall back on ``provider`` itself.
    """
    cls = type(provider)
    args, kwargs = getattr(provider, "_constructor_arguments", ((), {}))
    try:
        return cls(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure of the user's constructor is reported the same way
        raise PluginError(plugin, operation, f"cannot make a fresh {cls.__qualname__}: calling it again with the "
                          f"arguments it was made with raised {type(exc).__name__}: {exc}") from None
