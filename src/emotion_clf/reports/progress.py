"""A training's progress in a notebook, where people wait.

:func:`training_progress` is the hook a notebook passes to ``train_model(progress=...)``:
lines when :data:`PROGRESS_ENV` is ``lines`` (the papermill runner sets it for the kernel
it starts, whose stderr goes to the make log), a ``tqdm.auto`` bar otherwise (a widget in
JupyterLab where ipywidgets is installed, a redrawn line elsewhere). The lines are
:class:`~emotion_clf.models.progress.ProgressLines`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from emotion_clf.models.progress import ProgressLines

PROGRESS_ENV = "EMOTION_CLF_PROGRESS"
LINES = "lines"
TICKS = 1000  # a fraction in [0, 1] as a count, for tqdm's rate and ETA


def lines_wanted() -> bool:
    """Whether progress should be plain lines: the papermill runner asked for them."""
    return os.environ.get(PROGRESS_ENV) == LINES


@contextmanager
def training_progress(
    title: str, *, every_s: float = 15.0
) -> Iterator[Callable[[str, float], None]]:
    """A training's progress hook, ``(description, fraction)``, for a notebook.

    In a notebook run by papermill (:data:`PROGRESS_ENV` set), a line every ``every_s``
    seconds on stderr, which the runner passes to the make log; in JupyterLab a
    ``tqdm.auto`` bar with the epoch, loss, elapsed time and ETA.
    """
    if lines_wanted():
        yield ProgressLines(title, every_s=every_s).fraction
        return
    from tqdm.auto import tqdm

    with tqdm(
        total=TICKS,
        desc=title,
        bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
        mininterval=1.0,
    ) as bar:

        def update(description: str, fraction: float) -> None:
            bar.set_description_str(f"{title}: {description}", refresh=False)
            bar.update(max(0, min(TICKS, round(fraction * TICKS))) - bar.n)

        yield update
