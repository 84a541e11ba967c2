"""The bare baseline app served the way ``chinwag serve`` serves chinwag: a measuring device
for ``python -m bench.chinwag_bench.bound``.

Same app module as the "bare GET/POST" baseline, but on chinwag's uvicorn configuration (its
HTTP protocol with the limits, its event loop with the accept fix): the share of a request the
server itself costs under chinwag. Run from
the baseline apps folder: ``python bare_on_chinwag.py MODULE PORT``.
"""

from __future__ import annotations

import importlib
import sys

import uvicorn

from chinwag.config import Settings
from chinwag.http.accept import UVICORN_LOOP
from chinwag.http.connection import http_protocol

if __name__ == "__main__":
    sys.path.insert(0, ".")
    module, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(
        importlib.import_module(module).app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        http=http_protocol(Settings()),
        loop=UVICORN_LOOP,
    )
