"""Webhooks: Twilio-compatible event callbacks (reference section 6)."""
