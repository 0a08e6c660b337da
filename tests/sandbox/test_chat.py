"""Code is taken from what people actually paste into chat."""

from __future__ import annotations

import pytest

from bot.sandbox.chat import extract_code

FUNCTION = "def f1(y_true, y_pred):\n    return 1.0\n"


@pytest.mark.parametrize("message", [
    f"Here is mine:\n```python\n{FUNCTION}```\nThanks!",
    f"```py\n{FUNCTION}```",
    f"```\n{FUNCTION}```",
    f"~~~python\n{FUNCTION}~~~",
    f"```{FUNCTION}```",  # no newline after the fence, as Slack sends one-line pastes
    FUNCTION,  # no fence at all, but it defines the function
    f"`{FUNCTION.strip()}`",
], ids=["tagged", "py-tag", "untagged", "tildes", "same-line", "bare", "inline-backticks"])
def test_code_is_found_in_every_common_shape(message: str) -> None:
    assert extract_code(message, "f1") == FUNCTION


def test_chat_formatting_characters_are_removed() -> None:
    pasted = ("```python\r\ndef f1(y_true, y_pred):\u200b\r\n"
              "\u00a0\u00a0\u00a0\u00a0return 1.0\r\n```")
    assert extract_code(pasted, "f1") == FUNCTION


def test_several_python_blocks_are_joined_in_order() -> None:
    message = ("First a helper:\n```python\ndef helper():\n    return 1\n```\nthen the function:"
               "\n```python\ndef f1(y_true, y_pred):\n    return helper()\n```")
    code = extract_code(message, "f1")
    assert code is not None
    assert code.index("def helper") < code.index("def f1")


def test_a_block_in_another_language_is_still_used_when_it_is_the_only_one() -> None:
    assert extract_code(f"```js\n{FUNCTION}```", "f1") == FUNCTION


@pytest.mark.parametrize("message", [
    "I would count true positives and divide by predicted positives.",
    "```\n```",
    "use `sklearn.metrics.f1_score`",
])
def test_no_code_is_reported_as_none(message: str) -> None:
    assert extract_code(message, "f1") is None
