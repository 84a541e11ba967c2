"""The application's tests, unchanged from when they ran against Twilio."""

from support import answer, open_ticket, transcript


def test_a_ticket_starts_with_the_question(client, service_sid):
    ticket = open_ticket(client, service_sid, "carol", "My order is late")
    assert transcript(client, service_sid, ticket) == ["carol: My order is late"]
    assert client.chat.v1.services(service_sid).channels(ticket).fetch().type == "private"


def test_an_agent_answers(client, service_sid):
    ticket = open_ticket(client, service_sid, "carol", "My order is late")
    answer(client, service_sid, ticket, "dave", "It ships today")
    assert transcript(client, service_sid, ticket)[-1] == "dave: It ships today"


def test_every_test_starts_from_a_clean_account(client):
    # the tickets above are gone: chinwag reset the account before this test
    assert client.chat.v1.services.list() == []
