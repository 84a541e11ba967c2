"""Every 400 of the catalogue says what is allowed, not only that something was wrong.

A new 400 whose message stops at Twilio's title would bring back the guessing issue 22 was
about; the few that already say all there is to say are listed by name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from chinwag import errors

pytestmark = pytest.mark.unit

#: messages that are complete as they are: Twilio's observed text for a missing parameter
#: (it names what is needed), free text chosen where raised, or a title that is the rule
COMPLETE = {
    "MissingParameterError",
    "MalformedRequestError",
    "ClockNotControllableError",
    "IdentityMatchesSidError",
    "UniqueNameMatchesSidError",
    "NegativeMessagePageTokenError",
}


def _catalogue() -> list[type[errors.ChinwagError]]:
    found: list[type[errors.ChinwagError]] = []
    pending = [errors.ChinwagError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [c for c in found if c.__module__ == errors.__name__]


def test_every_400_says_what_is_allowed() -> None:
    vague = [
        cls.__name__
        for cls in _catalogue()
        if cls.status == 400
        and cls.__name__ not in COMPLETE
        and ": " not in cls.template
        and " must " not in cls.template
    ]
    assert vague == []


def test_the_expected_texts() -> None:
    assert errors.one_of(("public", "private")) == "one of: public, private"
    assert errors.in_range(range(1, 1001)) == "an integer from 1 to 1000"


def _raised_without_their_fields() -> list[str]:
    """Every place in the source that builds a catalogue error without a field its message
    template needs: the template's ``format`` would raise KeyError there, a 500 for input that
    deserved the error."""
    source = Path(errors.__file__).parent
    needs = {
        kind.__name__: set(re.findall(r"\{(\w+)\}", kind.template))
        for kind in _catalogue()
        if "__init__" not in vars(kind)  # a class with its own __init__ fills its fields
    }
    found = []
    for path in sorted(source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or node.args:
                continue  # an explicit message needs no field
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            given = {keyword.arg for keyword in node.keywords}
            if name in needs and not given & {None, "message"} and needs[name] - given:
                found.append(f"{path.relative_to(source)}:{node.lineno} {name}")
    return found


def test_every_raise_names_the_fields_its_message_needs() -> None:
    assert _raised_without_their_fields() == []
