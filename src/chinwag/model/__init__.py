"""The records every layer shares, at the bottom of the package: resource records and pages
(``records``), domain events (``events``), events that belong to no transaction
(``ephemeral``), which events a subscriber wants (``topics``) and the ``UNSET`` marker of
partial updates (``unset``). Nothing here imports anything of chinwag's above it, so storage,
the domain and both doors can all use them without an arrow running up."""
