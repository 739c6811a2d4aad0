"""Parameterised notebooks run by papermill, published as HTML reports with an index.

- :func:`run_notebook` executes ``notebooks/<name>.ipynb`` with parameters and publishes it;
- :func:`publish_site` rebuilds ``reports/index.html`` (and every report's HTML);
- :func:`record_key_numbers` is what a notebook calls in its last cell so that the index
  can show the numbers the report is known by;
- :func:`training_progress` is the training's progress hook in a notebook (a bar in
  JupyterLab, plain lines in the make log).

The notebook-facing helpers are :mod:`emotion_clf.reports.views` (tables and displays of
results) and :mod:`emotion_clf.reports.workflow` (parameters in, key numbers out); figures
are :mod:`emotion_clf.evaluation`'s.
"""

from __future__ import annotations

from emotion_clf.reports.keynumbers import KEY_NUMBERS_MIME, read_key_numbers, record_key_numbers
from emotion_clf.reports.progress import training_progress
from emotion_clf.reports.records import ReportRecord
from emotion_clf.reports.runner import KERNEL, declared_parameters, find_notebook, run_notebook
from emotion_clf.reports.site import publish_site, read_index

__all__ = [
    "KERNEL",
    "KEY_NUMBERS_MIME",
    "ReportRecord",
    "declared_parameters",
    "find_notebook",
    "publish_site",
    "read_index",
    "read_key_numbers",
    "record_key_numbers",
    "run_notebook",
    "training_progress",
]
