"""tests/integration.py: which calls make a test an integration test (``make test-fast``
leaves those out)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.integration import _Scan, _starts_work
from tests.serving.server import running_server


def call(source: str) -> ast.Call:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    return node.value


@pytest.mark.parametrize(
    "source",
    [
        "running_server(home, workers=2)",
        "subprocess.run([CLI, 'serve'], check=False)",
        "subprocess.Popen(command)",
        "run_cli('serve', home=home, process=True)",
        "build_app(home, model_process=True)",
        "build_app(home, shadow_rate=1.0)",
        "train_model('minilm', data=data, out=out, seed=0)",
        "MiniLMModel(max_steps=4).fit(dataset)",
        "transfer_state(rows, tokenizer=t, encoder_folder=f, schema=s, params=p)",
        "run_notebook('01-train', {}, notebooks_dir=n, reports_dir=r)",
    ],
)
def test_a_call_that_starts_a_process_or_trains_a_minilm(source: str) -> None:
    assert _starts_work(call(source))


@pytest.mark.parametrize(
    "source",
    [
        "run_cli('predict', 'hi', home=home)",
        "run_cli('serve', home=home, process=False)",
        "build_app(home)",
        "build_app(home, shadow_rate=0)",
        "train_model('tfidf', data=data, out=out, seed=0)",
        "load_bundle(bundle)",
        "TfidfModel().fit(dataset)",
        "MiniLMModel(device='tpu').validate_params()",
    ],
)
def test_a_call_that_stays_in_this_process(source: str) -> None:
    assert not _starts_work(call(source))


def _serves(home: Path) -> None:
    with running_server(home):
        pass


def _through_a_helper(home: Path) -> None:
    _serves(home)


def _stays(home: Path) -> None:
    _through_a_helper  # noqa: B018  (named, never called)


def test_the_scan_follows_the_modules_own_helpers() -> None:
    scan, module = _Scan(), sys.modules[__name__]
    assert scan(_through_a_helper, module) and scan(_serves, module)
    assert not scan(_stays, module)


def test_the_marks_of_this_session(request: pytest.FixtureRequest) -> None:
    """Where the server tests were collected with this one, they carry the mark and the pure
    ones do not."""
    marked = {
        item.nodeid: item.get_closest_marker("integration") is not None
        for item in request.session.items
    }
    served = "tests/serving/test_server_process.py::test_serve_refuses_bad_options_with_a_message"
    pure = "tests/models/test_tfidf.py::test_predictions_equal_sklearns_transform_and_product"
    for nodeid, expected in ((served, True), (pure, False)):
        if nodeid in marked:
            assert marked[nodeid] is expected, nodeid
    assert marked[request.node.nodeid] is False
