"""Hypothesis properties of the pure input layer: forms, page parameters, SID shapes.

These are the functions every request passes through before any domain code runs; each
property says what they do for *all* inputs, in particular that bad input only ever ends in
the one client error meant for it (a 400), never in another exception (a 500).
"""

from __future__ import annotations

import contextlib
import string
from collections.abc import Callable
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chinwag import errors, sids
from chinwag.api.forms import Form, parse_form
from chinwag.api.paging import MAX_PAGE_SIZE, parse_list_query
from chinwag.domain import lookups, validation
from chinwag.model.records import Cursor

pytestmark = pytest.mark.unit

#: Reproducible in CI: the same examples every run, nothing written to .hypothesis/.
PROFILE = settings(deadline=None, derandomize=True, database=None)

#: Any character UTF-8 can carry (no lone surrogates), but NUL, which is rejected on purpose.
TEXT_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
#: Printable text: letters, marks, numbers, punctuation, symbols and spaces of every script.
PRINTABLE = st.characters(exclude_categories=("Cs", "Cc", "Cf", "Co", "Cn"))
PREFIXES = (
    sids.ACCOUNT,
    sids.SERVICE,
    sids.ROLE,
    sids.USER,
    sids.CHANNEL,
    sids.MEMBER,
    sids.MESSAGE,
    sids.INVITE,
    sids.CREDENTIAL,
)
HEX = "0123456789abcdefABCDEF"


def raises_exactly(error: type[Exception], fn: Callable[[], object]) -> None:
    """``fn()`` raises ``error`` itself: not a subclass, not another exception, not nothing."""
    try:
        fn()
    except Exception as exc:
        assert type(exc) is error, f"{type(exc).__name__} instead of {error.__name__}: {exc}"
    else:
        raise AssertionError(f"{error.__name__} not raised")


# --- forms ---------------------------------------------------------------------------------------

pairs_of = st.lists(st.tuples(st.text(PRINTABLE, max_size=20), st.text(PRINTABLE, max_size=40)))
#: Pairs whose keys repeat often: keys drawn from a handful.
repeated_pairs = st.lists(
    st.tuples(st.sampled_from(["Permission", "Identity", "a b", "é", ""]), st.text(TEXT_CHARS)),
    max_size=30,
)


@PROFILE
@given(pairs=st.one_of(pairs_of, repeated_pairs), plus=st.booleans())
@example(pairs=[("", ""), ("=", "&"), ("+", "%"), ("a;b", "c;d")], plus=True)
def test_urlencoded_pairs_round_trip(pairs: list[tuple[str, str]], plus: bool) -> None:
    form = parse_form(urlencode(pairs, quote_via=quote_plus if plus else quote))
    for key in {key for key, _ in pairs}:
        values = [value for k, value in pairs if k == key]
        assert key in form
        assert form.all(key) == values  # every value, in arrival order
        assert form.get(key) == values[0]


@PROFILE
@given(pairs=st.lists(st.tuples(st.text(TEXT_CHARS), st.text(TEXT_CHARS)), max_size=20))
def test_any_text_round_trips_and_absent_keys_have_no_values(
    pairs: list[tuple[str, str]],
) -> None:
    form = parse_form(urlencode(pairs))
    for key, _ in pairs:
        assert form.all(key) == [v for k, v in pairs if k == key]
    absent = "".join(key for key, _ in pairs) + "\u2603absent"
    assert absent not in form
    assert (form.all(absent), form.get(absent)) == ([], None)


#: Byte sequences that are not UTF-8: stray continuation bytes, overlong forms, truncated
#: sequences, encoded surrogates, code points past U+10FFFF, bytes UTF-8 never uses.
INVALID_CORES = [
    b"\x80",
    b"\xbf",
    b"\xc0\x80",
    b"\xc1\xbf",
    b"\xe0\x80\x80",
    b"\xe2\x82",
    b"\xf0\x9f\x98",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\xfe",
    b"\xff",
]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


invalid_utf8 = st.one_of(
    st.builds(
        lambda before, core, after: before.encode() + core + after.encode(),
        st.text(TEXT_CHARS, max_size=5),
        st.sampled_from(INVALID_CORES),
        st.text(TEXT_CHARS, max_size=5),
    ),
    st.binary(min_size=1, max_size=12).filter(lambda data: not _is_utf8(data)),
)


@PROFILE
@given(
    bad=invalid_utf8,
    in_key=st.booleans(),
    before=pairs_of,
    after=pairs_of,
)
def test_invalid_utf8_escapes_are_malformed_requests(
    bad: bytes, in_key: bool, before: list[tuple[str, str]], after: list[tuple[str, str]]
) -> None:
    escaped = quote_plus(bad)  # every byte of it percent-escaped
    field = f"{escaped}=v" if in_key else f"k={escaped}"
    text = "&".join(filter(None, [urlencode(before), field, urlencode(after)]))
    raises_exactly(errors.MalformedRequestError, lambda: parse_form(text))


@PROFILE
@given(
    pairs=st.lists(st.tuples(st.text(TEXT_CHARS), st.text(TEXT_CHARS)), min_size=1, max_size=8),
    where=st.tuples(st.integers(min_value=0), st.booleans(), st.integers(min_value=0)),
    escaped=st.booleans(),
)
def test_nul_anywhere_is_a_malformed_request(
    pairs: list[tuple[str, str]], where: tuple[int, bool, int], escaped: bool
) -> None:
    index, in_key, offset = where
    key, value = pairs[index % len(pairs)]
    target = key if in_key else value
    position = offset % (len(target) + 1)
    spoiled = target[:position] + "\x00" + target[position:]
    pairs = list(pairs)
    pairs[index % len(pairs)] = (spoiled, value) if in_key else (key, spoiled)
    text = urlencode(pairs)  # NUL as %00
    if not escaped:
        text = text.replace("%00", "\x00")  # a raw NUL in the decoded query string
    raises_exactly(errors.MalformedRequestError, lambda: parse_form(text))


@PROFILE
@given(text=st.text(st.sampled_from("%&=+;aZ09\x00\u00e9\u2603") | TEXT_CHARS))
def test_any_query_text_parses_or_is_a_malformed_request(text: str) -> None:
    with contextlib.suppress(errors.MalformedRequestError):
        parse_form(text)


# --- page parameters -----------------------------------------------------------------------------

NEGATIVE_ERRORS = st.sampled_from(
    [errors.InvalidPageTokenError, errors.NegativeMessagePageTokenError]
)


def query(**params: str) -> Form:
    return Form(list(params.items()))


@PROFILE
@given(key=st.integers(min_value=0, max_value=10**18 - 1), backwards=st.booleans())
@example(key=0, backwards=False)
@example(key=10**18 - 1, backwards=True)
def test_tokens_of_any_non_negative_key_parse_into_cursors(key: int, backwards: bool) -> None:
    token = f"P{'B' if backwards else 'T'}{key}"
    q = parse_list_query(parse_form(urlencode({"PageToken": token})))
    assert q.request.cursor == Cursor(key, backwards=backwards)
    assert q.token == token
    assert q.request.offset == 0  # a cursor replaces Page's offset


@PROFILE
@given(key=st.integers(min_value=10**18), error=NEGATIVE_ERRORS)
def test_keys_past_eighteen_digits_are_invalid_tokens(
    key: int, error: type[errors.ChinwagError]
) -> None:
    raises_exactly(
        errors.InvalidPageTokenError,
        lambda: parse_list_query(query(PageToken=f"PT{key}"), negative_token_error=error),
    )


@PROFILE
@given(key=st.integers(min_value=1, max_value=10**18 - 1), error=NEGATIVE_ERRORS)
def test_negative_keys_raise_the_negative_token_error_given(
    key: int, error: type[errors.ChinwagError]
) -> None:
    raises_exactly(
        error, lambda: parse_list_query(query(PageToken=f"PT-{key}"), negative_token_error=error)
    )


token_text = st.one_of(
    st.text(TEXT_CHARS, max_size=25),
    st.builds(
        "".join,
        st.lists(st.sampled_from(["P", "T", "B", "-", "0", "7", "9", " ", "+", "x"]), max_size=25),
    ),
    st.from_regex(r"\AP[TB]-?[0-9]{1,20}\Z"),
)


@PROFILE
@given(token=token_text, error=NEGATIVE_ERRORS)
def test_any_token_parses_or_is_a_token_error(token: str, error: type[errors.ChinwagError]) -> None:
    try:
        q = parse_list_query(query(PageToken=token), negative_token_error=error)
    except (errors.InvalidPageTokenError, errors.NegativeMessagePageTokenError) as exc:
        assert type(exc) in (errors.InvalidPageTokenError, error)
        return
    if token == "":
        assert q.request.cursor is None  # an empty PageToken is no token
        return
    cursor = q.request.cursor
    assert cursor is not None
    assert cursor == Cursor(int(token[2:]), backwards=token[1] == "B")
    assert cursor.key >= 0


@PROFILE
@given(
    token=st.builds(
        lambda kind, digits: kind + digits,
        st.sampled_from(["PT", "PB"]),
        st.text("0123456789\u0661\u0662\u0969\uff11\uff19", min_size=1, max_size=18).filter(
            lambda digits: not digits.isascii()
        ),
    )
)
def test_tokens_with_non_ascii_digits_are_invalid(token: str) -> None:
    """Only ASCII digits make a token: a parsed token is echoed as-is into ``meta.url``.

    (``\\d`` in a ``str`` pattern matches any script's digits, e.g. Arabic-Indic ``PT\\u0661``.)
    """
    raises_exactly(errors.InvalidPageTokenError, lambda: parse_list_query(query(PageToken=token)))


@PROFILE
@given(
    size=st.one_of(
        st.text(TEXT_CHARS, max_size=12),
        st.integers(min_value=-(10**12), max_value=10**30).map(str),
        st.from_regex(r"\A0*[0-9]{1,25}\Z"),
    ),
    max_size=st.integers(min_value=1, max_value=MAX_PAGE_SIZE),
)
@example(size="0", max_size=50)
@example(size="000", max_size=50)
@example(size="0001", max_size=50)
@example(size="9" * 40, max_size=50)
def test_any_page_size_is_valid_or_invalid_parameter(size: str, max_size: int) -> None:
    try:
        q = parse_list_query(query(PageSize=size), max_size=max_size)
    except errors.InvalidParameterError as exc:
        assert type(exc) is errors.InvalidParameterError
        assert not (size.isascii() and size.isdigit() and int(size) > 0)
        return
    assert 1 <= q.request.size <= max_size
    assert size.isascii() and size.isdigit()
    assert q.request.size == min(int(size), max_size)


# --- SID shapes ----------------------------------------------------------------------------------

hex32 = st.text(HEX, min_size=32, max_size=32)


def sid_shaped(prefix: str, value: str) -> bool:
    """The oracle: ``prefix`` then exactly 32 hex digits (either case), nothing else."""
    return (
        len(value) == 34
        and value[:2] == prefix
        and all(char in string.hexdigits for char in value[2:])
    )


#: Near misses of SIDs: other prefixes, lengths 31/33, a non-hex character, trailing newline.
near_sids = st.one_of(
    st.builds(lambda p, h: p + h, st.sampled_from(PREFIXES), hex32),
    st.builds(lambda p, h: p + h, st.text(string.ascii_letters, min_size=2, max_size=2), hex32),
    st.builds(
        lambda p, h, n: p + h[:n],
        st.sampled_from(PREFIXES),
        hex32,
        st.sampled_from([0, 1, 31, 33]),
    ),
    st.builds(lambda p, h: p + h + "0", st.sampled_from(PREFIXES), hex32),
    st.builds(lambda p, h: p + h + "\n", st.sampled_from(PREFIXES), hex32),
    st.builds(
        lambda p, h, i, c: p + h[:i] + c + h[i + 1 :],
        st.sampled_from(PREFIXES),
        hex32,
        st.integers(0, 31),
        st.sampled_from(["g", "G", "x", " ", "-", "\u0661", "\uff11", "\u00e9", "\x00"]),
    ),
    st.text(TEXT_CHARS, max_size=40),
)


@PROFILE
@given(prefix=st.sampled_from(PREFIXES), digits=hex32)
def test_prefix_and_32_hex_digits_look_like_a_sid(prefix: str, digits: str) -> None:
    assert sids.looks_like(prefix, prefix + digits)
    for other in PREFIXES:
        if other != prefix:
            assert not sids.looks_like(other, prefix + digits)


@PROFILE
@given(prefix=st.sampled_from(PREFIXES), value=near_sids)
def test_looks_like_accepts_exactly_prefix_and_32_hex(prefix: str, value: str) -> None:
    assert sids.looks_like(prefix, value) == sid_shaped(prefix, value)


@PROFILE
@given(prefix=st.sampled_from(PREFIXES), data=st.binary(min_size=16, max_size=16))
def test_minted_sids_are_always_recognised(prefix: str, data: bytes) -> None:
    sid = sids.SidGenerator(randbytes=lambda n: data[:n]).new(prefix)
    assert sids.looks_like(prefix, sid)
    assert sid[2:] == sid[2:].lower()  # Twilio mints lower-case hex
    assert sids.looks_like(prefix, sids.SidGenerator().new(prefix))  # os.urandom
    assert sids.looks_like(prefix, sids.SequentialSids().new(prefix))


@PROFILE
@given(key=near_sids)
@example(key="fuzz-room")
@example(key="CH" + "0" * 32)
def test_channel_segments_are_sids_only_when_sid_shaped(key: str) -> None:
    expected = "sid" if sid_shaped(sids.CHANNEL, key) else "unique_name"
    assert lookups.channel_column(key) == expected


@PROFILE
@given(identity=near_sids.filter(lambda value: 0 < len(value) <= validation.IDENTITY_MAX))
def test_identities_are_rejected_exactly_when_they_look_like_user_sids(identity: str) -> None:
    if identity in validation.RESERVED_IDENTITIES:
        return
    if "\x00" in identity:  # the text rule comes first: PostgreSQL cannot store a NUL
        raises_exactly(errors.MalformedRequestError, lambda: validation.check_identity(identity))
    elif sid_shaped(sids.USER, identity):
        raises_exactly(errors.IdentityMatchesSidError, lambda: validation.check_identity(identity))
    else:
        assert validation.check_identity(identity) == identity
