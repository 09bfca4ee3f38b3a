"""Reading Hector's text-only config in a provider: sdk.config_positive_int."""

from __future__ import annotations

import pytest

from hector_nb import sdk


@pytest.mark.parametrize(("config", "default", "expected"), [
    ({"k": "16"}, None, 16),
    ({"k": "16"}, 4, 16),
    ({}, None, None),
    ({}, 4, 4),
    ({"k": ""}, 4, 4),  # an empty value is Hector's null: the default applies
])
def test_reads_a_positive_integer_or_the_default(config, default, expected):
    assert sdk.config_positive_int(config, "k", *([] if default is None else [default])) == expected


@pytest.mark.parametrize("text", ["0", "-3", "1.5", "many", " 7"])
def test_anything_else_names_the_key_and_the_value(text):
    with pytest.raises(ValueError, match=f"config k must be a positive integer, got {text!r}"):
        sdk.config_positive_int({"k": text}, "k", 4)
