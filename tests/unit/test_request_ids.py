"""Request ids: 128 random bits each, drawn in batches, never shared with a forked child."""

from __future__ import annotations

import os
import re

from chinwag.http.observe import new_request_id

REQUEST_ID = re.compile(r"RQ[0-9a-f]{32}")


def test_ids_are_well_formed_and_unique_across_batches() -> None:
    ids = [new_request_id() for _ in range(1000)]  # several batches of 256
    assert all(REQUEST_ID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_draws_fresh_bytes_not_its_parents() -> None:
    new_request_id()  # the parent holds a batch with ids still unused
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids, then leave without running pytest's exit
        os.close(read)
        os.write(write, " ".join(new_request_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split()
    os.waitpid(pid, 0)
    parent = [new_request_id() for _ in range(3)]
    assert len(child) == 3 and not set(child) & set(parent)
