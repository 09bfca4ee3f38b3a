"""An LLM provider that does not write get_model_info() still answers GetModelInfo, as Hector asks at registration."""

from __future__ import annotations

import pytest

from hector_nb import Session, sdk


class Plain(sdk.LLMProvider):
    def generate(self, messages, tools):
        return sdk.GenerateResponse(text="hi")


class Declared(Plain):
    name = "declared-llm"
    max_tokens = 8192
    temperature = 0.2


class FromConfig(Plain):
    config_defaults = {"max_tokens": "2048"}


class SetInInitialize(Plain):
    def initialize(self, config):
        self.temperature = float(config.get("temperature", "0.5"))


@pytest.mark.parametrize("transport", ["in-kernel", "in-process"])
@pytest.mark.parametrize("provider, config, expected", [
    (Plain, {}, ("plain", 4096, 1.0)),                             # the name, and the defaults
    (Declared, {}, ("declared-llm", 8192, 0.2)),                   # class attributes
    (FromConfig, {"temperature": "0.3"}, ("from-config", 2048, 0.3)),  # config, defaults applied
    (SetInInitialize, {"temperature": "1.5"}, ("set-in-initialize", 4096, 1.5)),  # attributes set in initialize
])
def test_the_default_model_info(provider, config, expected, transport):
    with Session(timeout=20) as session:
        info = session.add("llm", provider(), transport=transport, config=config).model_info()
    assert (info.model_name, info.max_tokens, info.temperature) == pytest.approx(expected)


def test_the_config_is_what_initialize_got():
    with Session(timeout=20) as session:
        provider = FromConfig()
        session.add("llm", provider, transport="in-kernel", config={"model": "m"})
        assert dict(provider.config) == {"max_tokens": "2048", "model": "m"}
