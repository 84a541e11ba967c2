"""A small application that uses Twilio Programmable Chat: support tickets as channels.

Nothing here knows about chinwag; it takes any twilio ``Client``.
"""

from __future__ import annotations

from twilio.rest import Client


def open_ticket(client: Client, service_sid: str, customer: str, question: str) -> str:
    """A private channel for the customer with their question as the first message."""
    service = client.chat.v1.services(service_sid)
    channel = service.channels.create(
        friendly_name=f"Ticket from {customer}", type="private", unique_name=f"ticket-{customer}"
    )
    tickets = service.channels(channel.sid)
    tickets.members.create(identity=customer)
    tickets.messages.create(body=question, from_=customer)
    return str(channel.sid)


def answer(client: Client, service_sid: str, ticket_sid: str, agent: str, text: str) -> None:
    ticket = client.chat.v1.services(service_sid).channels(ticket_sid)
    ticket.members.create(identity=agent)
    ticket.messages.create(body=text, from_=agent)


def transcript(client: Client, service_sid: str, ticket_sid: str) -> list[str]:
    ticket = client.chat.v1.services(service_sid).channels(ticket_sid)
    return [f"{m._from}: {m.body}" for m in ticket.messages.list()]
