"""What a ``timeout=`` means, in one place: seconds, or None for no deadline at all.

``None``, ``inf`` and anything beyond :data:`NO_DEADLINE_BEYOND` mean no deadline
(gRPC, ``threading`` and ``time`` overflow on huge values, so they are never passed
on); zero, negative and NaN are refused, since they would fail every call at once.
Stopping a plugin stays bounded whatever its calls' deadline: see :func:`bounded`.
"""

from __future__ import annotations

import math
import numbers

from ..errors import InvalidInput

#: Ten years: a longer deadline is no deadline.
NO_DEADLINE_BEYOND = 10 * 365 * 24 * 3600.0
#: The bound of each step of stopping a plugin (its Shutdown, the controller's, each signal), and of
#: waiting for a dying process's exit code.
STEP_TIMEOUT = 2.0


def deadline(timeout: object, plugin: str, operation: str) -> float | None:
    """``timeout`` as seconds for gRPC and ``threading``, None for no deadline; :class:`InvalidInput` if senseless."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise InvalidInput(plugin, operation, f"timeout={timeout!r} is not a number of seconds; pass seconds "
                           "(a float), or None for no deadline")
    seconds = float(timeout)
    if math.isnan(seconds) or seconds <= 0:
        raise InvalidInput(plugin, operation, f"timeout={timeout!r} would fail every call at once; pass a "
                           "positive number of seconds, or None (or math.inf) for no deadline")
    return None if seconds > NO_DEADLINE_BEYOND else seconds


def bounded(timeout: float | None, bound: float) -> float:
    """A step of stopping a plugin: ``timeout``, but never beyond ``bound`` (closing always ends)."""
    return bound if timeout is None else min(timeout, bound)


def times(timeout: float | None, count: int) -> float | None:
    """The deadline of ``count`` steps of ``timeout`` each (a stream of batches), None when unbounded."""
    if timeout is None or timeout * count > NO_DEADLINE_BEYOND:
        return None
    return timeout * count
