"""What the notebook runner hands the kernel it starts, through the kernel's environment
(papermill has no other way to give a kernel anything but parameters, and a parameter would
be one more line in every notebook's interface).

- :data:`REPORT_PAGE_ENV`: where this run's HTML report will be published, so notebook 01
  can link the version it registers to its training report (:func:`report_page`);
- :data:`~emotion_clf.reports.progress.PROGRESS_ENV`: progress as plain lines, for the log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

REPORT_PAGE_ENV = "EMOTION_CLF_REPORT_PAGE"


def report_page() -> str | None:
    """This run's report page, when a notebook runs as a report; None in JupyterLab."""
    return os.environ.get(REPORT_PAGE_ENV) or None


@contextmanager
def kernel_environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in this process's environment while a kernel starts (it inherits them),
    then as they were."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
