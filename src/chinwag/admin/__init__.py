"""The live admin console: a page, its assets and the port it reads connected clients from.

The page (``templates/console.html``) and its script and style (``static/``) ship as package
data, so the console works on a machine with no network. The script calls only the public REST
API and the console's ``/_chinwag/`` endpoints (``chinwag.http.console``): no rule is written
twice.
"""

from __future__ import annotations

from pathlib import Path

#: where the page and its assets live inside the installed package
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
