"""Push credentials through the official twilio SDK: types, sandbox, write-only secrets."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from twilio.base import values

from sdk_support import expect_http_error, fails_with

pytestmark = pytest.mark.server

CREDENTIAL_SID = re.compile(r"^CR[0-9a-f]{32}$")
UNKNOWN_CREDENTIAL = "CR" + "0" * 32
KEYS = {
    "sid",
    "account_sid",
    "friendly_name",
    "type",
    "sandbox",
    "date_created",
    "date_updated",
    "url",
}

CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIcertSECRETcert+/=\n-----END CERTIFICATE-----"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIkeySECRETkey+/=\n-----END RSA PRIVATE KEY-----"
API_KEY = "AIzaSy-gcm-SECRET-api-key"
SECRET = "AAAA-fcm-SECRET-server-key"
SECRETS = (CERTIFICATE, PRIVATE_KEY, API_KEY, SECRET, "MIIcertSECRETcert", "MIIkeySECRETkey")
SECRET_FIELD_NAMES = ("certificate", "private_key", "api_key", "secret", "privatekey", "apikey")


def assert_no_secrets(response: httpx.Response) -> None:
    text = response.text
    for secret in SECRETS:
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text
    lowered = text.lower()
    for name in SECRET_FIELD_NAMES:
        assert f'"{name}"' not in lowered


def all_secrets(kind: str) -> dict[str, str]:
    return {
        "Type": kind,
        "FriendlyName": f"{kind} creds",
        "Certificate": CERTIFICATE,
        "PrivateKey": PRIVATE_KEY,
        "Sandbox": "true",
        "ApiKey": API_KEY,
        "Secret": SECRET,
    }


# --- create -------------------------------------------------------------------------------------


def test_create_apn_returns_201(chat: Any) -> None:
    response = chat.credentials.create_with_http_info(
        type="apn", friendly_name="ios", certificate=CERTIFICATE, private_key=PRIVATE_KEY
    )
    assert response.status_code == 201
    c = response.data
    assert CREDENTIAL_SID.match(c.sid)
    assert c.account_sid.startswith("AC")
    assert c.friendly_name == "ios"
    assert c.type == "apn"
    assert c.sandbox == "False"
    assert c.date_created is not None
    assert c.date_updated == c.date_created
    assert c.url.endswith(f"/v1/Credentials/{c.sid}")


def test_create_apn_sandbox_is_the_string_true(chat: Any) -> None:
    c = chat.credentials.create(type="apn", sandbox=True, certificate=CERTIFICATE)
    assert c.sandbox == "True"
    assert chat.credentials(c.sid).fetch().sandbox == "True"


def test_create_apn_sandbox_false_is_the_string_false(chat: Any) -> None:
    assert chat.credentials.create(type="apn", sandbox=False).sandbox == "False"


def test_sandbox_is_rendered_as_a_json_string(chat: Any, http: httpx.Client) -> None:
    sid = http.post("/v1/Credentials", data={"Type": "apn", "Sandbox": "true"}).json()["sid"]
    assert http.get(f"/v1/Credentials/{sid}").json()["sandbox"] == "True"
    sid = http.post("/v1/Credentials", data={"Type": "apn"}).json()["sid"]
    assert http.get(f"/v1/Credentials/{sid}").json()["sandbox"] == "False"


def test_create_gcm_has_null_sandbox(chat: Any) -> None:
    c = chat.credentials.create(type="gcm", friendly_name="android", api_key=API_KEY)
    assert (c.type, c.friendly_name, c.sandbox) == ("gcm", "android", None)


def test_create_fcm_has_null_sandbox(chat: Any) -> None:
    c = chat.credentials.create(type="fcm", friendly_name="firebase", secret=SECRET)
    assert (c.type, c.friendly_name, c.sandbox) == ("fcm", "firebase", None)


@pytest.mark.parametrize("kind", ["gcm", "fcm"])
def test_sandbox_is_null_for_non_apn_even_when_sent(chat: Any, kind: str) -> None:
    c = chat.credentials.create(type=kind, sandbox=True)
    assert c.sandbox is None
    assert chat.credentials(c.sid).fetch().sandbox is None
    assert chat.credentials(c.sid).update(sandbox=True).sandbox is None


@pytest.mark.parametrize("kind", ["apn", "gcm", "fcm"])
def test_create_with_only_a_type(chat: Any, kind: str) -> None:
    c = chat.credentials.create(type=kind)
    assert c.type == kind
    assert c.friendly_name is None


@pytest.mark.parametrize("kind", ["sms", "APN", "Gcm", "apns", "voip", ""])
def test_create_with_invalid_type_is_rejected(chat: Any, kind: str) -> None:
    fails_with(400, 20001, chat.credentials.create, type=kind)


def test_create_without_type_is_missing_parameter(http: httpx.Client) -> None:
    body = expect_http_error(http.post("/v1/Credentials", data={"FriendlyName": "x"}), 400, 20001)
    assert "Type" in body["message"]


def test_create_without_type_through_sdk_is_rejected(chat: Any) -> None:
    fails_with(400, 20001, chat.credentials.create, type=values.unset, friendly_name="x")


def test_create_with_invalid_sandbox_is_rejected(chat: Any) -> None:
    fails_with(400, 20001, chat.credentials.create, type="apn", sandbox="maybe")


def test_create_accepts_friendly_name_of_64_characters(chat: Any) -> None:
    assert chat.credentials.create(type="gcm", friendly_name="c" * 64).friendly_name == "c" * 64


def test_create_with_friendly_name_over_64_characters_is_rejected(chat: Any) -> None:
    fails_with(400, 50003, chat.credentials.create, type="apn", friendly_name="c" * 65)


def test_create_with_empty_friendly_name_leaves_it_null(chat: Any) -> None:
    assert chat.credentials.create(type="fcm", friendly_name="").friendly_name is None


# --- secrets are write-only ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["apn", "gcm", "fcm"])
def test_secrets_never_appear_in_any_response(
    kind: str, chinwag_server: Any, clean_chat: Any
) -> None:
    client = clean_chat.domain.twilio
    with httpx.Client(base_url=chinwag_server.url, auth=(client.username, client.password)) as http:
        created = http.post("/v1/Credentials", data=all_secrets(kind))
        assert created.status_code == 201
        assert set(created.json()) == KEYS
        assert_no_secrets(created)
        sid = created.json()["sid"]

        fetched = http.get(f"/v1/Credentials/{sid}")
        assert fetched.status_code == 200
        assert set(fetched.json()) == KEYS
        assert_no_secrets(fetched)

        updated = http.post(
            f"/v1/Credentials/{sid}",
            data={k: v for k, v in all_secrets(kind).items() if k != "Type"},
        )
        assert updated.status_code == 200
        assert set(updated.json()) == KEYS
        assert_no_secrets(updated)

        listed = http.get("/v1/Credentials")
        assert listed.status_code == 200
        rows = listed.json()["credentials"]
        assert [set(row) for row in rows] == [KEYS]
        assert_no_secrets(listed)


def test_secrets_are_not_exposed_as_sdk_attributes(chat: Any) -> None:
    c = chat.credentials.create(
        type="apn", certificate=CERTIFICATE, private_key=PRIVATE_KEY, api_key=API_KEY, secret=SECRET
    )
    fetched = chat.credentials(c.sid).fetch()
    for instance in (c, fetched):
        rendered = repr(vars(instance))
        for secret in SECRETS:
            assert secret not in rendered


# --- fetch --------------------------------------------------------------------------------------


def test_fetch_credential(chat: Any) -> None:
    created = chat.credentials.create(type="gcm", friendly_name="android", api_key=API_KEY)
    c = chat.credentials(created.sid).fetch()
    assert c.sid == created.sid
    assert (c.type, c.friendly_name, c.sandbox) == ("gcm", "android", None)
    assert c.date_created == created.date_created
    assert c.url == created.url


@pytest.mark.parametrize("segment", [UNKNOWN_CREDENTIAL, "ios", "IS" + "0" * 32])
def test_fetch_unknown_credential_is_not_found(chat: Any, segment: str) -> None:
    fails_with(404, 20404, chat.credentials(segment).fetch)


def test_fetch_not_found_message_names_the_path(http: httpx.Client) -> None:
    body = expect_http_error(http.get(f"/v1/Credentials/{UNKNOWN_CREDENTIAL}"), 404, 20404)
    assert (
        body["message"] == f"The requested resource /Credentials/{UNKNOWN_CREDENTIAL} was not found"
    )


# --- update -------------------------------------------------------------------------------------


def test_update_friendly_name(chat: Any) -> None:
    c = chat.credentials.create(type="apn", friendly_name="old")
    response = chat.credentials(c.sid).update_with_http_info(friendly_name="new")
    assert response.status_code == 200
    assert response.data.friendly_name == "new"
    assert response.data.type == "apn"
    assert response.data.date_created == c.date_created
    assert chat.credentials(c.sid).fetch().friendly_name == "new"


def test_update_apn_sandbox(chat: Any) -> None:
    c = chat.credentials.create(type="apn")
    assert chat.credentials(c.sid).update(sandbox=True).sandbox == "True"
    assert chat.credentials(c.sid).fetch().sandbox == "True"
    assert chat.credentials(c.sid).update(sandbox=False).sandbox == "False"


def test_update_is_partial(chat: Any) -> None:
    c = chat.credentials.create(type="apn", friendly_name="keep", sandbox=True)
    updated = chat.credentials(c.sid).update(certificate=CERTIFICATE, private_key=PRIVATE_KEY)
    assert (updated.friendly_name, updated.sandbox, updated.type) == ("keep", "True", "apn")


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [("apn", {"certificate": "new-cert"}), ("gcm", {"api_key": "k2"}), ("fcm", {"secret": "s2"})],
)
def test_update_secrets_only(chat: Any, kind: str, kwargs: dict[str, str]) -> None:
    c = chat.credentials.create(type=kind, friendly_name="n")
    updated = chat.credentials(c.sid).update(**kwargs)
    assert (updated.type, updated.friendly_name) == (kind, "n")


def test_update_empty_friendly_name_clears_it(chat: Any) -> None:
    c = chat.credentials.create(type="gcm", friendly_name="named")
    assert chat.credentials(c.sid).update(friendly_name="").friendly_name is None
    assert chat.credentials(c.sid).fetch().friendly_name is None


def test_update_cannot_change_type(chat: Any, http: httpx.Client) -> None:
    c = chat.credentials.create(type="apn", friendly_name="ios")
    response = http.post(f"/v1/Credentials/{c.sid}", data={"Type": "gcm", "FriendlyName": "x"})
    assert response.status_code == 200
    assert response.json()["type"] == "apn"
    assert chat.credentials(c.sid).fetch().type == "apn"


def test_update_with_no_parameters_is_rejected(chat: Any) -> None:
    c = chat.credentials.create(type="apn")
    fails_with(400, 20161, chat.credentials(c.sid).update)


def test_update_with_friendly_name_over_64_characters_is_rejected(chat: Any) -> None:
    c = chat.credentials.create(type="apn", friendly_name="short")
    fails_with(400, 50003, chat.credentials(c.sid).update, friendly_name="c" * 65)
    assert chat.credentials(c.sid).fetch().friendly_name == "short"


def test_update_with_invalid_sandbox_is_rejected(chat: Any) -> None:
    c = chat.credentials.create(type="apn")
    fails_with(400, 20001, chat.credentials(c.sid).update, sandbox="perhaps")


def test_update_unknown_credential_is_not_found(chat: Any) -> None:
    fails_with(404, 20404, chat.credentials(UNKNOWN_CREDENTIAL).update, friendly_name="x")


# --- delete -------------------------------------------------------------------------------------


def test_delete_returns_204_then_credential_is_gone(chat: Any) -> None:
    c = chat.credentials.create(type="fcm", secret=SECRET)
    response = chat.credentials(c.sid).delete_with_http_info()
    assert response.status_code == 204
    fails_with(404, 20404, chat.credentials(c.sid).fetch)
    fails_with(404, 20404, chat.credentials(c.sid).update, friendly_name="x")
    fails_with(404, 20404, chat.credentials(c.sid).delete)


def test_delete_answers_with_empty_body(chat: Any, http: httpx.Client) -> None:
    c = chat.credentials.create(type="gcm")
    response = http.delete(f"/v1/Credentials/{c.sid}")
    assert response.status_code == 204
    assert response.content == b""


def test_delete_unknown_credential_is_not_found(chat: Any) -> None:
    fails_with(404, 20404, chat.credentials(UNKNOWN_CREDENTIAL).delete)


def test_delete_leaves_services_alone(chat: Any, service: Any) -> None:
    c = chat.credentials.create(type="apn")
    chat.credentials(c.sid).delete()
    assert service.fetch().friendly_name == "test service"


# --- list ---------------------------------------------------------------------------------------


def test_list_is_empty_on_a_new_account(clean_chat: Any) -> None:
    assert clean_chat.credentials.list() == []


def test_list_returns_every_credential_in_creation_order(clean_chat: Any) -> None:
    specs = [("apn", True), ("gcm", None), ("fcm", None), ("apn", False), ("gcm", None)]
    created = []
    for i, (kind, sandbox) in enumerate(specs):
        kwargs = {"sandbox": sandbox} if sandbox is not None else {}
        created.append(clean_chat.credentials.create(type=kind, friendly_name=f"c{i}", **kwargs))
    listed = clean_chat.credentials.list()
    assert [c.sid for c in listed] == [c.sid for c in created]
    assert [(c.type, c.friendly_name, c.sandbox) for c in listed] == [
        ("apn", "c0", "True"),
        ("gcm", "c1", None),
        ("fcm", "c2", None),
        ("apn", "c3", "False"),
        ("gcm", "c4", None),
    ]


def test_list_reflects_updates_and_deletes(clean_chat: Any) -> None:
    a = clean_chat.credentials.create(type="apn", friendly_name="a")
    b = clean_chat.credentials.create(type="gcm", friendly_name="b")
    clean_chat.credentials(a.sid).update(friendly_name="a2")
    clean_chat.credentials(b.sid).delete()
    assert [(c.sid, c.friendly_name) for c in clean_chat.credentials.list()] == [(a.sid, "a2")]


def test_list_pages_through_credentials_with_small_pages(clean_chat: Any) -> None:
    created = [
        clean_chat.credentials.create(type="gcm", friendly_name=f"c{i}").sid for i in range(5)
    ]
    assert [c.sid for c in clean_chat.credentials.list(page_size=2)] == created
    assert [c.sid for c in clean_chat.credentials.stream(page_size=2)] == created
    assert [c.sid for c in clean_chat.credentials.list(limit=4, page_size=3)] == created[:4]


def test_page_next_and_previous(clean_chat: Any) -> None:
    created = [
        clean_chat.credentials.create(type="fcm", friendly_name=f"c{i}").sid for i in range(5)
    ]
    first = clean_chat.credentials.page(page_size=2)
    assert [c.sid for c in first] == created[:2]
    assert first.previous_page() is None
    second = first.next_page()
    assert [c.sid for c in second] == created[2:4]
    third = second.next_page()
    assert [c.sid for c in third] == created[4:]
    assert third.next_page() is None
    assert [c.sid for c in third.previous_page()] == created[2:4]
    assert [c.sid for c in second.previous_page()] == created[:2]


def test_list_meta_key_is_credentials(clean_chat: Any, chinwag_server: Any) -> None:
    clean_chat.credentials.create(type="apn")
    client = clean_chat.domain.twilio
    with httpx.Client(base_url=chinwag_server.url, auth=(client.username, client.password)) as http:
        body = http.get("/v1/Credentials").json()
    assert body["meta"]["key"] == "credentials"
    assert body["meta"]["page_size"] == 50
    assert body["meta"]["next_page_url"] is None
    assert len(body["credentials"]) == 1
