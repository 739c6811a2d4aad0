"""The model runtime of the server: everything that runs a model, and nothing of HTTP.

- :mod:`.loading`: :func:`load_verified` loads, verifies and warms a bundle up into a
  :class:`LoadedModel`;
- :mod:`.holder`: the hot-swappable :class:`ModelHolder` (refresh, poll, serve from cache);
- :mod:`.batcher`: the :class:`MicroBatcher`, which batches calls without knowing what a model
  is; where a batch runs (the event loop's thread, the prediction thread) it decides from the
  predictor's own properties (``holds_gil``, ``out_of_process``);
- :mod:`.child`: :class:`ModelChild`, the one handle on a model in a child process, used by
  the model process (:mod:`.model_process`) and the shadow candidate (:mod:`.shadow`);
- :mod:`.workers`: the workers of one server, refreshed together;
- :mod:`.predlog` and :mod:`.metrics`: the prediction log and the Prometheus metrics;
- :mod:`.state`: the parts together, and what every prediction does.

The HTTP shell (:mod:`emotion_clf.serving.http`) imports this package, never the reverse; no
module here imports FastAPI or Starlette (``tests/test_architecture.py``).
"""

from __future__ import annotations

from emotion_clf.serving.runtime.batcher import MicroBatcher
from emotion_clf.serving.runtime.child import ChildSpec, ModelChild
from emotion_clf.serving.runtime.errors import RefreshError, public_text
from emotion_clf.serving.runtime.holder import ModelHolder
from emotion_clf.serving.runtime.loading import LoadedModel, RefreshOutcome, load_verified
from emotion_clf.serving.runtime.metrics import ServingMetrics
from emotion_clf.serving.runtime.predlog import PredictionLog
from emotion_clf.serving.runtime.shadow import Shadow
from emotion_clf.serving.runtime.state import ServingState
from emotion_clf.serving.runtime.workers import WorkerGroup

__all__ = [
    "ChildSpec",
    "LoadedModel",
    "MicroBatcher",
    "ModelChild",
    "ModelHolder",
    "PredictionLog",
    "RefreshError",
    "RefreshOutcome",
    "ServingMetrics",
    "ServingState",
    "Shadow",
    "WorkerGroup",
    "load_verified",
    "public_text",
]
