"""What both doors share, below both: the REST API (``chinwag.http``) and the client gateway
(``chinwag.realtime``) parse, page, date and count the same way, so neither imports the other.

- ``routing``: the route-table type and its matcher (REST v1/v2/v3, control, console, media and
  the socket's requests are all tables of it);
- ``forms``: Twilio's form parameters, decoded and typed;
- ``paging``: ``PageSize``/``Page``/``PageToken`` in, the list envelope out;
- ``dates``: Twilio's date text;
- ``urls``: URLs a door hands out that point at the other one (media);
- ``counters``: the gateway's counters, which the REST door's ``/metrics`` exports.
"""
