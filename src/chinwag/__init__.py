"""chinwag: a self-hosted chat backend speaking the Twilio Programmable Chat v1 REST API."""

from chinwag.app import ChinwagApp, create_app
from chinwag.config import Settings, load_settings

__version__ = "0.1.0"

__all__ = ["ChinwagApp", "Settings", "__version__", "create_app", "load_settings"]
