"""Push templates: Twilio's placeholders, its default texts, one-pass substitution."""

from __future__ import annotations

import pytest

from chinwag.push.templates import (
    DEFAULT_TEMPLATES,
    MESSAGE_TYPES,
    TemplateContext,
    render,
    template_for,
)

pytestmark = pytest.mark.unit

CONTEXT = TemplateContext(
    user_identity="alice@example.com",
    user_friendly_name="Alice",
    channel_sid="CH" + "a" * 32,
    channel_friendly_name="General chat",
    channel_unique_name="general",
    message="hello there",
)


def test_every_placeholder_is_replaced() -> None:
    template = (
        "${USER}|${USER_IDENTITY}|${USER_FRIENDLY_NAME}|${CHANNEL}|${CHANNEL_SID}|"
        "${CHANNEL_FRIENDLY_NAME}|${CHANNEL_UNIQUE_NAME}|${MESSAGE}"
    )
    assert render(template, CONTEXT).split("|") == [
        "Alice",
        "alice@example.com",
        "Alice",
        "general",
        "CH" + "a" * 32,
        "General chat",
        "general",
        "hello there",
    ]


@pytest.mark.parametrize(
    ("friendly", "unique", "expected"),
    [
        ("General chat", "general", "general"),
        ("General chat", None, "General chat"),
        (None, None, "CH" + "a" * 32),
    ],
)
def test_channel_is_the_unique_name_else_friendly_name_else_sid(
    friendly: str | None, unique: str | None, expected: str
) -> None:
    context = TemplateContext("bob", None, "CH" + "a" * 32, friendly, unique)
    assert render("${CHANNEL}", context) == expected
    assert context.channel_title == expected


def test_user_is_the_identity_when_the_user_has_no_friendly_name() -> None:
    context = TemplateContext("bob", None, "CH1")
    assert render("${USER}/${USER_FRIENDLY_NAME}/${USER_IDENTITY}", context) == "bob//bob"


def test_missing_values_render_empty() -> None:
    context = TemplateContext("bob", None, "CH1")
    assert render("[${CHANNEL_FRIENDLY_NAME}][${CHANNEL_UNIQUE_NAME}][${MESSAGE}]", context) == (
        "[][][]"
    )


def test_substitution_is_one_pass_and_leaves_unknown_placeholders() -> None:
    context = TemplateContext("${MESSAGE}", None, "CH1", message="${USER}")
    assert render("${USER} said ${MESSAGE} in ${TOPIC} $USER", context) == (
        "${MESSAGE} said ${USER} in ${TOPIC} $USER"
    )


def test_an_unset_or_empty_template_is_twilios_default() -> None:
    for kind, default in DEFAULT_TEMPLATES.items():
        assert template_for(kind, None) == default
        assert template_for(kind, "") == default
    assert template_for("new_message", "${USER}: ${MESSAGE}") == "${USER}: ${MESSAGE}"


def test_default_texts() -> None:
    def text(kind: str) -> str:
        return render(template_for(kind, None), CONTEXT)  # type: ignore[arg-type]

    assert text("new_message") == "general;Alice: hello there"
    assert text("added_to_channel") == "You have been added to channel general by Alice"
    assert text("invited_to_channel") == "Alice has invited you to join the channel general"
    assert text("removed_from_channel") == "Alice has removed you from the channel general"


def test_message_types_are_the_sdks() -> None:
    assert set(MESSAGE_TYPES) == set(DEFAULT_TEMPLATES)
    assert all(t.startswith("twilio.channel.") for t in MESSAGE_TYPES.values())
