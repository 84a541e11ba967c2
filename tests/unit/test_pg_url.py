"""PostgreSQL URLs as asyncpg takes them, and as messages show them."""

from __future__ import annotations

import pytest

from chinwag.storage.pg_url import DatabaseUrlError, dsn, redacted

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://u@h/db?sslmode=verify-full", "postgresql://u@h/db?sslmode=verify-full"),
        ("postgresql://u@h/db?ssl=disable", "postgresql://u@h/db?sslmode=disable"),
        ("postgresql://u@h/db?ssl=true", "postgresql://u@h/db?sslmode=require"),
        ("postgresql://u@h/db?ssl=0", "postgresql://u@h/db?sslmode=disable"),
        (
            "postgres://u:p%40ss@h:5433/db?application_name=chat&sslmode=require&sslrootcert=/ca.pem",
            "postgres://u:p%40ss@h:5433/db?application_name=chat&sslmode=require"
            "&sslrootcert=%2Fca.pem",
        ),
    ],
)
def test_dsn_spells_ssl_as_sslmode_and_keeps_the_rest(url: str, expected: str) -> None:
    assert dsn(url) == expected


@pytest.mark.parametrize("query", ["sslmode=bogus", "ssl=maybe", "sslmode=", "sslmode=true"])
def test_dsn_refuses_unknown_modes(query: str) -> None:
    with pytest.raises(DatabaseUrlError, match="use sslmode="):
        dsn(f"postgresql://u@h/db?{query}")


def test_redacted_hides_only_the_password() -> None:
    assert redacted("postgresql://app:s3cret@db:5432/chat?sslmode=require") == (
        "postgresql://app:***@db:5432/chat?sslmode=require"
    )
    assert redacted("postgresql://app@db/chat") == "postgresql://app@db/chat"
