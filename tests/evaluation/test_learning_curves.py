"""The learning curves' loss panel: the validation loss beside the training loss (issue 27)."""

from __future__ import annotations

from emotion_clf.evaluation.figures import learning_curves_figure

HISTORY = [
    {"epoch": 1.0, "steps": 700.0, "train_loss": 2.1, "val_loss": 1.9, "val_score": 0.35},
    {"epoch": 2.0, "steps": 1400.0, "train_loss": 1.6, "val_loss": 1.7, "val_score": 0.47},
    {"epoch": 3.0, "steps": 2100.0, "train_loss": 1.4, "val_loss": 1.8, "val_score": 0.46},
]


def test_the_loss_panel_draws_validation_loss_beside_training_loss() -> None:
    fig = learning_curves_figure(HISTORY, kept_epoch=2)
    assert fig is not None
    loss, validation = fig.axes
    curves = {line.get_label(): line for line in loss.lines}
    assert list(curves) == ["training loss", "validation loss", "kept: epoch 2"]
    assert list(curves["training loss"].get_ydata()) == [2.1, 1.6, 1.4]
    assert list(curves["validation loss"].get_ydata()) == [1.9, 1.7, 1.8]
    assert list(curves["validation loss"].get_xdata()) == [1.0, 2.0, 3.0]
    assert curves["validation loss"].get_linestyle() != curves["training loss"].get_linestyle()
    # a loss is not a 0-1 metric: it stays out of the validation panel
    assert "val_loss" not in {line.get_label() for line in validation.lines}
    assert [t.get_text() for t in loss.get_legend().get_texts()][:2] == [
        "training loss",
        "validation loss",
    ]
