"""The figures read right: tested on their data (axes, lines, marks), not on pixels."""

from __future__ import annotations

from emotion_clf.evaluation.figures import learning_curves_figure

HISTORY = [
    {"epoch": 1.0, "steps": 700.0, "train_loss": 2.1, "train_seconds": 81.0,
     "val_emotion_macro_f1": 0.31, "val_score": 0.35},
    {"epoch": 2.0, "steps": 1400.0, "train_loss": 1.6, "train_seconds": 79.0,
     "val_emotion_macro_f1": 0.44, "val_score": 0.47},
    {"epoch": 3.0, "steps": 2100.0, "train_loss": 1.4, "train_seconds": 80.0,
     "val_emotion_macro_f1": 0.43, "val_score": 0.46},
]  # fmt: skip


def test_validation_metrics_are_on_a_0_1_axis_and_the_kept_epoch_is_marked() -> None:
    fig = learning_curves_figure(HISTORY, title="minilm", kept_epoch=2)
    assert fig is not None
    loss, validation = fig.axes
    curves = {line.get_label(): list(line.get_ydata()) for line in validation.lines}
    # steps (0-2,100) and seconds are counters, not curves: they would flatten the metrics
    assert set(curves) == {"val_emotion_macro_f1", "val_score", "kept: epoch 2"}
    assert validation.get_ylim() == (0.0, 1.0)
    assert curves["val_score"] == [0.35, 0.47, 0.46]
    assert [line.get_label() for line in loss.lines] == ["training loss", "kept: epoch 2"]
    for ax in (loss, validation):
        [mark] = [line for line in ax.lines if line.get_label().startswith("kept")]
        assert list(mark.get_xdata()) == [2, 2]  # a vertical line at the kept epoch
    assert learning_curves_figure([]) is None
