"""``%hector generate`` and ``%%hector generate``: a generation streamed live into the notebook."""

from __future__ import annotations

import argparse

from IPython.core.error import UsageError

from .. import sdk
from ..display import Generation, TextView, WidgetView, run_stream
from ..errors import ProviderError
from ..host.clients import LLMClient
from ..options import option
from .arguments import expand_variables
from .base import MagicContext, subcommand


def stream_view(ctx: MagicContext) -> TextView | WidgetView:
    """A widget where a widget frontend can exist (a kernel), progressive text elsewhere."""
    mode = ctx.settings.widgets
    in_kernel = type(ctx.shell).__name__ == "ZMQInteractiveShell"
    return WidgetView() if mode == "always" or (mode == "auto" and in_kernel) else TextView()


@subcommand("generate", [
    option("name", help="an LLM plugin"),
    option("prompt", nargs="?", help='the prompt, quoted; {var} takes a variable (the cell body in %%%%hector)'),
    option("--system", help="a system message before the prompt (sent as Hector does: ROLE_UNSPECIFIED)"),
    option("--as-agent", action="store_true",
           help="send what a default Hector agent sends: its ~19,600-character system prompt (or --system) "
                "and tool list, the prompt, and its ten tool definitions (unless --tools)"),
    option("--tool-result", metavar="TEXT",
           help="with --as-agent: the agent's next turn, after the model called a tool and the tool answered "
                "TEXT (five messages; Hector passes the result as an empty ROLE_AGENT message, so TEXT reaches "
                "the plugin only in lenient fidelity)"),
    option("--tools", metavar="VAR", help="a variable holding tool definitions (ToolDefinition or dicts)"),
    option("--no-stream", action="store_true", help="one Generate call instead of a live stream"),
    option("--out", metavar="VAR", help="store the result in this variable"),
], cell=True)
def generate(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> sdk.GenerateResponse | Generation | None:
    """Generate with an LLM plugin, streamed live (tokens, time and tokens/s shown)."""
    prompt = expand_variables(cell.strip(), ctx.shell.user_ns, "the cell") if cell is not None else args.prompt
    if not prompt:
        raise UsageError('%hector generate NAME "prompt" needs a prompt (or use %%hector generate NAME)')
    tools = ctx.variable(args.tools, "the tool definitions") if args.tools else None
    llm = ctx.client(args.name, LLMClient)
    if args.tool_result is not None and not args.as_agent:
        raise UsageError("--tool-result simulates an agent's follow-up turn: add --as-agent")
    request = {"tools": tools, "system": args.system, "agent": args.as_agent, "tool_result": args.tool_result}
    if args.no_stream:
        response = ctx.store(args.out, llm.generate(prompt, **request))
        if args.out:  # stored, not shown again in full: a long answer would flood the cell
            print(preview(args.out, response.text))
            return None
        return response
    generation = run_stream(llm.name, llm.stream(prompt, **request), stream_view(ctx), ctx.settings.stream_fps)
    generation.shown_in_cell = ctx.shell.execution_count
    ctx.store(args.out, generation)
    if generation.error:
        raise ProviderError(llm.name, "generate", generation.error)
    if generation.interrupted:  # the view keeps the partial text; the cell fails, so Run All stops here
        raise KeyboardInterrupt
    return generation


#: How much of a stored answer ``--out`` shows.
PREVIEW_CHARACTERS = 200


def preview(variable: str, text: str) -> str:
    """One line saying where an answer went, with its start and its length."""
    more = "…" if len(text) > PREVIEW_CHARACTERS else ""
    return f"{variable} = the answer ({len(text):,} characters): {text[:PREVIEW_CHARACTERS]!r}{more}"
