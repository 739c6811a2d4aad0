"""``emotion-clf serve`` as the environment of the code before issue 14 ran it.

That environment had neither ``uvloop`` nor ``httptools``, so uvicorn ran the asyncio event
loop and the pure-Python ``h11`` parser; in this environment it would pick the fast ones. This
shim pins the two and then runs the command line of whatever code ``PYTHONPATH`` selects
(``benchmarks/serving_throughput.py`` points it at a copy of the code before the change).

    PYTHONPATH=/tmp/before/src python benchmarks/serve_as_main.py serve --port 8000
"""

from __future__ import annotations

import functools
import sys

import uvicorn

uvicorn.run = functools.partial(uvicorn.run, loop="asyncio", http="h11")  # type: ignore[assignment]

from emotion_clf.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
