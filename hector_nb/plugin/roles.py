"""Message roles as Hector sends them, and a helper that reads either vocabulary.

Hector's agents do not send OpenAI's role words. A message's ``role`` is one of
the A2A enum names: ``ROLE_USER`` for the user, ``ROLE_AGENT`` for the
assistant (also for a tool's result, with empty content) and
``ROLE_UNSPECIFIED`` for system text (Hector sends its system prompt and its
tool list as two such messages before the user's). A provider that looks for
``role == "user"`` therefore sees no user message at all under Hector.

:func:`normalize_role` maps both vocabularies to Hector's names, and
:func:`openai_role` maps them to OpenAI's, so a provider reads roles the same
way whoever calls it::

    from hector_nb.sdk import ROLE_USER, normalize_role

    users = [m.content for m in messages if normalize_role(m.role) == ROLE_USER]

This module belongs to the plugin runtime: it imports nothing else of hector_nb.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The user's turn.
ROLE_USER = "ROLE_USER"
#: The assistant's turn, and a tool's result (Hector sends it with empty content).
ROLE_AGENT = "ROLE_AGENT"
#: System text: Hector's system prompt and its tool list.
ROLE_UNSPECIFIED = "ROLE_UNSPECIFIED"
#: Every role Hector sends.
HECTOR_ROLES = (ROLE_USER, ROLE_AGENT, ROLE_UNSPECIFIED)

#: OpenAI's role words, as Hector would send the same turn.
OPENAI_TO_HECTOR: Mapping[str, str] = {
    "user": ROLE_USER,
    "assistant": ROLE_AGENT,
    "system": ROLE_UNSPECIFIED,
    "developer": ROLE_UNSPECIFIED,
    "tool": ROLE_AGENT,
}
#: Hector's roles as OpenAI's API names them.
HECTOR_TO_OPENAI: Mapping[str, str] = {
    ROLE_USER: "user",
    ROLE_AGENT: "assistant",
    ROLE_UNSPECIFIED: "system",
}
# Short forms people write by hand ("agent", "unspecified"), and the empty role of a bare Message().
_ALIASES: Mapping[str, str] = {
    "agent": ROLE_AGENT,
    "unspecified": ROLE_UNSPECIFIED,
    "": ROLE_UNSPECIFIED,
}


def normalize_role(role: str) -> str:
    """The role as Hector names it (``ROLE_USER``, ``ROLE_AGENT`` or ``ROLE_UNSPECIFIED``).

    Accepts Hector's names and OpenAI's words (``user``, ``assistant``,
    ``system``, ``tool``), in any case. Raises :class:`ValueError` for any
    other word, naming the accepted ones.
    """
    word = role.strip()
    if word.upper() in HECTOR_ROLES:
        return word.upper()
    lowered = word.lower()
    if lowered in OPENAI_TO_HECTOR:
        return OPENAI_TO_HECTOR[lowered]
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    accepted = ", ".join((*HECTOR_ROLES, *OPENAI_TO_HECTOR))
    raise ValueError(f"unknown message role {role!r}; use one of {accepted}")


def openai_role(role: str) -> str:
    """The role as OpenAI's chat API names it (``user``, ``assistant`` or ``system``).

    For providers that forward Hector's messages to an OpenAI-compatible server.
    """
    return HECTOR_TO_OPENAI[normalize_role(role)]
