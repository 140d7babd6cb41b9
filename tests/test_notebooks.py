"""The notebooks of examples/notebooks/: built by the script, and run by a real kernel.

`scripts/build_notebooks.py` writes every .ipynb from its cell sources, so the committed files
must equal what it builds (no drift, no outputs). Each notebook is then executed with nbclient in
a Jupyter kernel of this Python (a kernel spec written to a temporary JUPYTER_PATH, so a fresh
clone needs no `ipykernel install`), in a temporary working directory, and must finish without an
error output. The notebooks assert what they show; the test also checks that the pictures, the
HTML reports and the numbers were actually displayed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest
from helpers import in_ci

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "examples" / "notebooks"
KERNEL = "tinygrad-seq-tests"
CELL_TIMEOUT = 180  # seconds per cell, generous for a busy 2-core machine


def load_builder():
    """Import scripts/build_notebooks.py from its path (scripts/ is not a package)."""
    path = ROOT / "scripts" / "build_notebooks.py"
    spec = importlib.util.spec_from_file_location("build_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nbclient_or_fail():
    """nbclient and nbformat (the dev extra); a skip outside CI, a failure in CI."""
    try:
        import nbclient
        import nbformat
    except ImportError:
        if in_ci():
            pytest.fail("nbclient/nbformat missing in CI: pip install -e '.[dev]'")
        pytest.skip("the notebook tests need nbclient, nbformat and ipykernel (the dev extra)")
    return nbclient, nbformat


def test_committed_notebooks_are_what_the_script_builds():
    nbclient_or_fail()
    builder = load_builder()
    built = builder.build_all()
    assert sorted(built) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    stale = [name for name, text in built.items() if (NOTEBOOKS / name).read_text() != text]
    assert not stale, f"run python scripts/build_notebooks.py: out of date: {stale}"
    for name, text in built.items():
        nb = json.loads(text)
        assert nb["nbformat"] == 4 and nb["metadata"]["kernelspec"]["language"] == "python"
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)
        first_md = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
        assert "".join(first_md["source"]).startswith("# "), name


def test_check_mode_finds_a_stale_notebook(tmp_path):
    nbclient_or_fail()
    builder = load_builder()
    assert builder.main(["--out", str(tmp_path)]) == 0
    assert builder.main(["--check", "--out", str(tmp_path)]) == 0
    victim = sorted(tmp_path.glob("*.ipynb"))[0]
    victim.write_text(victim.read_text().replace("tinygrad_seq", "tinygrad_sec", 1))
    assert builder.main(["--check", "--out", str(tmp_path)]) == 1


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A kernel spec running this Python with this checkout first on the path; JUPYTER_PATH set."""
    nbclient_or_fail()
    if importlib.util.find_spec("ipykernel") is None:
        if in_ci():
            pytest.fail("ipykernel missing in CI: pip install -e '.[dev]'")
        pytest.skip("the notebook tests need ipykernel (the dev extra)")
    base = tmp_path_factory.mktemp("jupyter")
    spec_dir = base / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tinygrad_seq tests",
        "language": "python",
        "env": {"PYTHONPATH": path, "OPENBLAS_NUM_THREADS": "1", "IPYTHONDIR": str(base / "ipy")},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR")}
    os.environ["JUPYTER_PATH"] = str(base)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(base / "runtime")
    yield base
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def execute(name: str, cwd: Path) -> tuple[list[dict], float]:
    """Run one notebook in a fresh kernel with cwd as its working directory -> (outputs, s)."""
    nbclient, nbformat = nbclient_or_fail()
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name=KERNEL, resources={"metadata": {"path": str(cwd)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
    return outputs, seconds


def data_of(outputs: list[dict], mime: str) -> list[str]:
    """Every displayed value of one mime type, in order."""
    return [o["data"][mime] for o in outputs if mime in o.get("data", {})]


def text_of(outputs: list[dict]) -> str:
    """Everything printed to stdout."""
    return "".join(o["text"] for o in outputs if o.get("name") == "stdout")


def assert_svg_graphs(outputs: list[dict], at_least: int) -> list[str]:
    svgs = [s for s in data_of(outputs, "image/svg+xml") if "tinygrad_seq" in s]
    assert len(svgs) >= at_least, f"{len(svgs)} graph pictures displayed, wanted {at_least}"
    return svgs


def assert_reports(outputs: list[dict], ok: int, failing: int = 0) -> None:
    pages = [p for p in data_of(outputs, "text/html") if "tinygrad-seq-report" in p]
    good = [p for p in pages if 'color:#1a7f37"><b>' in p]
    assert (len(good), len(pages) - len(good)) == (ok, failing)


def assert_figures(outputs: list[dict], at_least: int) -> None:
    pngs = data_of(outputs, "image/png")
    assert len(pngs) >= at_least and all(len(p) > 1000 for p in pngs)


@pytest.mark.slow
def test_01_rnn_cell_forward(kernel_env, tmp_path):
    outputs, _ = execute("01_rnn_cell_forward.ipynb", tmp_path)
    assert_svg_graphs(outputs, 2)
    assert "max |nn - course|" in text_of(outputs)


@pytest.mark.slow
def test_02_bptt_by_hand(kernel_env, tmp_path):
    outputs, _ = execute("02_bptt_by_hand.ipynb", tmp_path)
    assert_reports(outputs, ok=1, failing=1)  # the correct backward, and the one without tanh'
    assert_svg_graphs(outputs, 1)
    assert "largest relative error: autodiff - manual" in text_of(outputs)


@pytest.mark.slow
def test_03_vanishing_exploding(kernel_env, tmp_path):
    outputs, _ = execute("03_vanishing_exploding.ipynb", tmp_path)
    assert_figures(outputs, 3)  # by hand, RNN vs LSTM, clipping
    assert_svg_graphs(outputs, 1)
    assert "first gradient norm" in text_of(outputs)


@pytest.mark.slow
def test_04_gru_lstm(kernel_env, tmp_path):
    outputs, _ = execute("04_gru_lstm.ipynb", tmp_path)
    assert_reports(outputs, ok=2)
    assert_figures(outputs, 1)  # the gates
    assert_svg_graphs(outputs, 1)


@pytest.mark.slow
def test_05_sampling_names(kernel_env, tmp_path):
    outputs, _ = execute("05_sampling_names.ipynb", tmp_path)
    assert_figures(outputs, 1)  # the training curve
    text = text_of(outputs)
    assert "nats per character" in text and "tau = 0.5" in text and "log P('maria')" in text


@pytest.mark.slow
def test_06_explorer(kernel_env, tmp_path):
    outputs, _ = execute("06_explorer.ipynb", tmp_path)
    assert data_of(outputs, "text/html"), "the explorer did not display as HTML"
    assert (tmp_path / "explorer.html").stat().st_size > 1000
