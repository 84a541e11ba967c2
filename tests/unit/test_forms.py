"""The form parser: wire types, repeated keys, empty values and undecodable input."""

from __future__ import annotations

import pytest

from chinwag import errors
from chinwag.api.forms import Form, parse_form
from chinwag.model.unset import UNSET

pytestmark = pytest.mark.unit


def test_repeated_keys_keep_every_value_in_order() -> None:
    form = parse_form("Permission=b&Permission=a&X=1")
    assert form.all("Permission") == ["b", "a"]
    assert form.get("Permission") == "b"


def test_nullable_distinguishes_absent_from_empty() -> None:
    form = parse_form("A=&B=x")
    assert form.nullable("A") is None
    assert form.nullable("B") == "x"
    assert form.nullable("C") is UNSET


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("FALSE", False), ("True", True)])
def test_booleans_are_case_insensitive(raw: str, value: bool) -> None:
    assert parse_form(f"B={raw}").boolean("B") is value


@pytest.mark.parametrize("raw", ["yes", "1", "", "tru"])
def test_other_booleans_are_rejected(raw: str) -> None:
    with pytest.raises(errors.InvalidParameterError):
        parse_form(f"B={raw}").boolean("B")


@pytest.mark.parametrize("raw", ["1.5", "x", "", "1e3", "9" * 19])
def test_bad_integers_raise_the_given_error(raw: str) -> None:
    with pytest.raises(errors.InvalidTypingIndicatorError):
        parse_form(f"N={raw}").integer("N", errors.InvalidTypingIndicatorError)


def test_empty_integer_is_null_when_nullable() -> None:
    assert parse_form("N=").integer("N", nullable=True) is None


def test_percent_encoded_invalid_utf8_is_rejected() -> None:
    with pytest.raises(errors.MalformedRequestError):
        parse_form("Body=%ff%fe")


def test_nul_is_rejected() -> None:
    with pytest.raises(errors.MalformedRequestError):
        Form([("Body", "a\x00b")])


def test_too_many_fields_are_rejected() -> None:
    with pytest.raises(errors.MalformedRequestError):
        parse_form("&".join(f"k{i}=v" for i in range(2000)))


def test_missing_required_parameter_names_it() -> None:
    with pytest.raises(errors.MissingParameterError) as raised:
        parse_form("").required("FriendlyName")
    assert raised.value.message == "Missing required parameter FriendlyName in the post body"


@pytest.mark.parametrize(
    "raw", ["\u0661", "\uff13", "1\u0661"]
)  # Arabic-Indic and full-width digits
def test_only_ascii_digits_are_integers(raw: str) -> None:
    with pytest.raises(errors.InvalidConsumedIndexError):
        Form([("N", raw)]).integer("N", errors.InvalidConsumedIndexError)
