"""Prints a line on stdout before its handshake (as Hector's own example plugin does), then serves."""

from hector_nb.sdk import GenerateResponse, LLMProvider, serve_llm_plugin

print("starting...", flush=True)


class Noisy(LLMProvider):
    def generate(self, messages, tools):
        return GenerateResponse(text="served")


if __name__ == "__main__":
    serve_llm_plugin(Noisy())
