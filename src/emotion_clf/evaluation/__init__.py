"""Scoring predictions against labels, comparing two models on the same rows, and the figures
of both.

- :class:`Evaluation` / :class:`HeadEvaluation`: accuracy, macro and weighted F1, per-class
  scores and the confusion matrix of each head (:func:`evaluation_from_predictions`);
- :func:`compare_evaluations`: per-head deltas, McNemar's exact test and a paired bootstrap
  interval of the macro-F1 difference (:class:`Comparison`);
- figures of both, for notebooks and training runs.

Running a predictor over a dataset is :func:`emotion_clf.models.evaluate`.
"""

from __future__ import annotations

from emotion_clf.evaluation.figures import (
    confusion_figure,
    delta_ci_figure,
    learning_curves_figure,
    per_class_f1_figure,
    side_by_side_f1_figure,
)
from emotion_clf.evaluation.metrics import (
    Evaluation,
    HeadEvaluation,
    evaluation_from_predictions,
    label_indices,
)
from emotion_clf.evaluation.paired import (
    ClassDelta,
    Comparison,
    HeadComparison,
    McNemar,
    bootstrap_macro_f1_diff,
    compare_evaluations,
    mcnemar_exact,
)

__all__ = [
    "ClassDelta",
    "Comparison",
    "Evaluation",
    "HeadComparison",
    "HeadEvaluation",
    "McNemar",
    "bootstrap_macro_f1_diff",
    "compare_evaluations",
    "confusion_figure",
    "delta_ci_figure",
    "evaluation_from_predictions",
    "label_indices",
    "learning_curves_figure",
    "mcnemar_exact",
    "per_class_f1_figure",
    "side_by_side_f1_figure",
]
