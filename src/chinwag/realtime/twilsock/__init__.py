"""Twilsock v3: frames (``codec``), one connection (``session``), the endpoint (``gateway``)."""
