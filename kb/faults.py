"""Fault-injection points for crash-safety tests (no effect unless a test asks for one).

A test sets ``KB_TEST_PAUSE_AT=<point>`` in the environment of a ``kb`` subprocess; when the
process reaches that point it prints ``kb: paused at <point>`` on stderr and sleeps
(``KB_TEST_PAUSE_SECONDS``, default 60), so the test can ``SIGKILL`` it exactly there instead of
racing a timer. The points are:

* ``ingest.store``: inside the ingest transaction, after half of the documents are written;
* ``build.embedded``: a new index build is embedded and written beside the serving one, before
  the ``CURRENT`` pointer is switched.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "KB_TEST_PAUSE_AT"
PAUSE_SECONDS_ENV = "KB_TEST_PAUSE_SECONDS"


def pause_point(name: str) -> None:
    """Pause here when the environment asks for ``name`` (tests only; otherwise a no-op)."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    print(f"kb: paused at {name}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "60")))
