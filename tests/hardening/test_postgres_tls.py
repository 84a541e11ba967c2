"""``sslmode`` in PostgreSQL URLs, against a second PostgreSQL instance of our own with TLS on.

The fixture makes a self-signed certificate, runs ``initdb`` and starts the server on a free
port with ``ssl=on`` and a ``pg_hba.conf`` that refuses any TCP connection without TLS; so a
request that succeeds proves the connection was encrypted. The shared instance is untouched.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli_process import run_cli, serving

from conftest import ACCOUNT_SID, AUTH_TOKEN, TEST_DATABASE_URL, free_port, server_env

pytestmark = [pytest.mark.server, pytest.mark.postgres]

ENV = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
HBA = (
    "local all all trust\n"
    "hostssl all all 127.0.0.1/32 trust\n"
    "hostnossl all all 127.0.0.1/32 reject\n"
)


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not found:
        # The PostgreSQL pass of CI installs the server; the SQLite pass may run before it.
        assert not TEST_DATABASE_URL, "PostgreSQL server binaries not found"
        pytest.skip("PostgreSQL server binaries are not installed (the PostgreSQL run has them)")
    return Path(found[-1]).parent


def _version(path: str) -> int:
    return int(Path(path).parts[-3].split(".")[0])


def _as_owner(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _certificate(directory: Path, name: str) -> Path:
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(directory / f"{name}.key"), "-out", str(directory / f"{name}.crt"),
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return directory / f"{name}.crt"


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[str, Path]]:
    """Base URL ``postgresql://postgres@127.0.0.1:PORT/postgres`` and the server's certificate."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="chinwag-tls-"))
    data, port = root / "data", free_port()
    try:
        certificate = _certificate(root, "server")
        _certificate(root, "stranger")
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        subprocess.run(
            _as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]),
            check=True,
            capture_output=True,
        )
        for name in ("server.crt", "server.key"):
            shutil.copy(root / name, data / name)
            os.chmod(data / name, 0o600)
            if os.geteuid() == 0:
                shutil.chown(data / name, "postgres")
        (data / "pg_hba.conf").write_text(HBA)
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c ssl=on "
            "-c ssl_cert_file=server.crt -c ssl_key_file=server.key -c fsync=off"
        )
        subprocess.run(
            _as_owner(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                 str(root / "log"), "-w", "start"]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", certificate
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


def test_sslmode_require_serves_over_tls(tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    with serving("--database", f"{url}?sslmode=require", env=ENV) as (base, output):
        auth = (ACCOUNT_SID, AUTH_TOKEN)
        created = httpx.post(f"{base}/v1/Services", data={"FriendlyName": "tls"}, auth=auth)
        assert created.status_code == 201
        listed = httpx.get(f"{base}/v1/Services", auth=auth).json()["services"]
        assert [s["friendly_name"] for s in listed] == ["tls"]
    assert f"database {url}?sslmode=require\n" in output.stderr


def test_sslmode_verify_full_checks_the_certificate(tls_server: tuple[str, Path]) -> None:
    url, certificate = tls_server
    trusted = run_cli(
        "db", "upgrade", "--database", f"{url}?sslmode=verify-full&sslrootcert={certificate}"
    )
    assert trusted.returncode == 0, trusted.stderr
    stranger = certificate.with_name("stranger.crt")
    refused = run_cli(
        "db", "upgrade", "--database", f"{url}?sslmode=verify-full&sslrootcert={stranger}"
    )
    assert refused.returncode == 2
    (line,) = refused.stderr.splitlines()
    assert (
        line.startswith("chinwag: cannot open the database") and "certificate verify failed" in line
    )


@pytest.mark.parametrize("query", ["sslmode=disable", "ssl=disable", "ssl=false"])
def test_tls_turned_off_is_refused_in_one_line(tls_server: tuple[str, Path], query: str) -> None:
    url, _ = tls_server
    result = run_cli("serve", "--port", "0", "--database", f"{url}?{query}", env=ENV)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("chinwag: cannot open the database") and "no encryption" in line


def test_ssl_true_means_require(tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    result = run_cli("db", "upgrade", "--database", f"{url}?ssl=true")
    assert result.returncode == 0, result.stderr
