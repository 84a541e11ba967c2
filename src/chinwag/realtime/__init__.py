"""The client half: the Twilsock gateway the twilio-chat SDK connects to (docs/clients.md)."""
