"""The batch driver against small scoring scripts written per test: mini-batching, one init() per
worker, retries, timeouts, the error threshold, append_row and summary_only, and an MLflow model
scored without a script."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from azureml_emulator_batch.driver import Settings, list_inputs, mini_batches, rows_of, score

SCRIPT = r"""
import os, time
from pathlib import Path

MARKS = Path(os.environ["TEST_MARKS"])

def init():
    with open(MARKS / f"init-{os.getpid()}", "a") as marks:
        marks.write("init\n")

def run(mini_batch):
    rows = []
    for path in mini_batch:
        name = Path(path).name
        if name.startswith("bad"):
            raise ValueError(f"cannot score {name}")
        if name.startswith("flaky") and not (MARKS / name).exists():
            (MARKS / name).write_text("")
            raise RuntimeError(f"transient failure on {name}")
        if "slow" in name:
            time.sleep(30)
        if name.startswith("together"):
            # Waits (up to 20 s) until another worker runs a mini-batch at the same time.
            (MARKS / f"running-{os.getpid()}").write_text("")
            deadline = time.monotonic() + 20
            while len(list(MARKS.glob("running-*"))) < 2:
                if time.monotonic() > deadline:
                    raise TimeoutError("no other worker ran at the same time")
                time.sleep(0.01)
        rows.append([name, len(Path(path).read_text()), os.getpid()])
    return rows
"""


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "score.py").write_text(textwrap.dedent(SCRIPT))
    (tmp_path / "marks").mkdir()
    (tmp_path / "input").mkdir()
    monkeypatch.setenv("TEST_MARKS", str(tmp_path / "marks"))
    return tmp_path


def inputs(root: Path, names: list[str]) -> None:
    for name in names:
        (root / "input" / name).write_text("x" * len(name))


def settings(root: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "input_path": str(root / "input"),
        "output_dir": str(root / "out"),
        "scoring_script": "score.py",
        "code_dir": str(root / "code"),
        "mini_batch_size": 3,
        "max_concurrency": 2,
        "max_retries": 0,
        "timeout_seconds": 20.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def inits(root: Path) -> dict[int, int]:
    """How many times each worker process called init(), by pid."""
    return {
        int(mark.name.split("-")[1]): len(mark.read_text().splitlines())
        for mark in (root / "marks").glob("init-*")
    }


def predictions(root: Path) -> list[list[str]]:
    return [line.split(" ") for line in (root / "out" / "predictions.csv").read_text().splitlines()]


def test_lists_files_recursively_in_path_order_and_splits_them(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ["c.csv", "a.csv", "b/z.csv"]:
        (tmp_path / name).write_text("1")
    files = list_inputs(str(tmp_path))
    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == ["a.csv", "b/z.csv", "c.csv"]
    assert mini_batches(files, 2) == [files[:2], files[2:]]
    assert rows_of([["a", 1], "b"]) == ["a 1", "b"]
    with pytest.raises(TypeError):
        rows_of("not rows")


def test_append_row_collects_every_row_in_input_order_with_one_init_per_worker(workspace: Path) -> None:
    names = [f"f{i}.csv" for i in range(7)]
    inputs(workspace, names)
    summary = score(settings(workspace), log=lambda _: None)
    assert summary.status == "Completed"
    assert (summary.mini_batches, summary.mini_batches_completed, summary.items) == (3, 3, 7)
    rows = predictions(workspace)
    assert [row[:2] for row in rows] == [[name, str(len(name))] for name in names]
    assert summary.rows == 7
    # Every worker that scored called init() exactly once.
    scored_by = {int(row[2]) for row in rows}
    assert all(inits(workspace).get(pid) == 1 for pid in scored_by)


def test_max_concurrency_runs_mini_batches_at_the_same_time(workspace: Path) -> None:
    inputs(workspace, ["together1.csv", "together2.csv"])
    summary = score(settings(workspace, mini_batch_size=1, max_concurrency=2), log=lambda _: None)
    assert summary.status == "Completed", summary.failures
    assert len({row[2] for row in predictions(workspace)}) == 2


def test_summary_only_writes_no_predictions_file(workspace: Path) -> None:
    inputs(workspace, ["a.csv", "b.csv"])
    summary = score(settings(workspace, output_action="summary_only"), log=lambda _: None)
    assert summary.status == "Completed"
    assert not (workspace / "out" / "predictions.csv").exists()


def test_a_failed_mini_batch_is_retried(workspace: Path) -> None:
    inputs(workspace, ["a.csv", "flaky.csv"])
    lines: list[str] = []
    summary = score(settings(workspace, max_retries=1, max_concurrency=1), log=lines.append)
    assert summary.status == "Completed"
    assert summary.failed_items == 0
    assert any("attempt 1 failed, retrying" in line for line in lines)
    assert len((workspace / "out" / "predictions.csv").read_text().splitlines()) == 2


def test_more_failed_files_than_the_threshold_fails_the_job_saying_so(workspace: Path) -> None:
    inputs(workspace, ["bad1.csv", "bad2.csv", "good.csv"])
    summary = score(
        settings(workspace, mini_batch_size=1, max_concurrency=1, error_threshold=1),
        log=lambda _: None,
    )
    assert summary.status == "Failed"
    assert summary.error is not None
    assert "2 files failed, more than the error threshold (1)" in summary.error
    assert "cannot score bad2.csv" in summary.error
    assert not (workspace / "out" / "predictions.csv").exists()


def test_threshold_minus_one_tolerates_every_failure(workspace: Path) -> None:
    inputs(workspace, ["bad1.csv", "good.csv"])
    summary = score(settings(workspace, mini_batch_size=1, error_threshold=-1), log=lambda _: None)
    assert summary.status == "Completed"
    assert (summary.failed_items, summary.mini_batches_failed) == (1, 1)
    assert summary.elapsed_seconds > 0
    assert [row[:2] for row in predictions(workspace)] == [["good.csv", "8"]]


def test_a_mini_batch_over_its_timeout_is_killed_and_its_worker_started_again(workspace: Path) -> None:
    inputs(workspace, ["a-slow.csv", "b.csv"])
    summary = score(
        settings(workspace, mini_batch_size=1, max_concurrency=1, timeout_seconds=1.0),
        log=lambda _: None,
    )
    assert summary.status == "Completed"
    assert summary.failed_items == 1
    assert "timed out after 1 s" in summary.failures[0]
    # b.csv was scored by a new worker, which called init() again.
    assert [row[0] for row in predictions(workspace)] == ["b.csv"]
    assert len(inits(workspace)) == 2


def test_an_mlflow_model_is_scored_without_a_script(tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow")
    import pandas as pd

    python_model: Any = mlflow.pyfunc.PythonModel

    class Doubler(python_model):  # type: ignore[misc]
        def predict(self, context: object, model_input: pd.DataFrame) -> list[float]:
            return [2 * v for v in model_input["x"]]

    model_dir = tmp_path / "model"
    mlflow.pyfunc.save_model(str(model_dir / "doubler"), python_model=Doubler(), pip_requirements=[])
    (tmp_path / "input").mkdir()
    pd.DataFrame({"x": [1, 2]}).to_csv(tmp_path / "input" / "a.csv", index=False)
    pd.DataFrame({"x": [5]}).to_csv(tmp_path / "input" / "b.csv", index=False)
    summary = score(
        Settings(
            input_path=str(tmp_path / "input"),
            output_dir=str(tmp_path / "out"),
            model_dir=str(model_dir),
        ),
        log=lambda _: None,
    )
    assert summary.status == "Completed", summary.error
    assert (tmp_path / "out" / "predictions.csv").read_text().splitlines() == ["1 2", "2 4", "5 10"]
