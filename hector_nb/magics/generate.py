"""``%hector generate`` and ``%%hector generate``: a generation streamed live into the notebook."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments

from .. import sdk
from ..display import TextView, WidgetView, run_stream
from .base import MagicContext, subcommand


def stream_view(ctx: MagicContext):
    """A widget where a widget frontend can exist (a kernel), progressive text elsewhere."""
    mode = ctx.settings.widgets
    in_kernel = type(ctx.shell).__name__ == "ZMQInteractiveShell"
    return WidgetView() if mode == "always" or (mode == "auto" and in_kernel) else TextView()


@subcommand("generate", cell=True)
@magic_arguments()
@argument("name", help="an LLM plugin")
@argument("prompt", nargs="?", help='the prompt, quoted; {var} takes a variable (the cell body in %%%%hector)')
@argument("--system", help="a system message before the prompt")
@argument("--tools", metavar="VAR", help="a variable holding tool definitions (ToolDefinition or dicts)")
@argument("--no-stream", action="store_true", help="one Generate call instead of a live stream")
@argument("--out", metavar="VAR", help="store the result in this variable")
def generate(ctx: MagicContext, args, cell):
    """Generate with an LLM plugin, streamed live (tokens, time and tokens/s shown)."""
    prompt = ctx.shell.var_expand(cell.strip()) if cell is not None else args.prompt
    if not prompt:
        raise UsageError('%hector generate NAME "prompt" needs a prompt (or use %%hector generate NAME)')
    messages = [sdk.Message(role="user", content=prompt)]
    if args.system:
        messages.insert(0, sdk.Message(role="system", content=args.system))
    tools = ctx.variable(args.tools, "the tool definitions") if args.tools else None
    llm = ctx.client(args.name, sdk.PLUGIN_TYPE_LLM)
    if args.no_stream:
        return ctx.store(args.out, llm.generate(messages, tools=tools))
    generation = run_stream(llm.name, llm.stream(messages, tools=tools), stream_view(ctx), ctx.settings.stream_fps)
    ctx.store(args.out, generation)
    if generation.error:
        raise UsageError(f"plugin {llm.name!r}, generate: {generation.error}")
    return generation
