"""The emulator's batch scoring driver: runs a batch deployment's scoring script under Azure ML's
batch contract, on local worker processes.

- The input (a file or a folder, searched recursively) is split into mini-batches of
  ``mini_batch_size`` files, in path order.
- ``max_concurrency`` worker processes (forked where the platform can) each import the scoring
  script and call its ``init()`` once, then ``run(mini_batch)`` (a list of file paths) for every
  mini-batch they are given.
- A mini-batch whose ``run()`` raises, or that runs longer than ``timeout_seconds`` (its worker is
  then killed and replaced, and the new worker calls ``init()`` again), is tried again up to
  ``max_retries`` times; after that its files count as failed.
- When more files have failed than ``error_threshold`` (``-1``: never), the job stops and fails
  with a message that says so.
- ``append_row``: what every ``run()`` returns (a list of rows, or a pandas DataFrame) is written
  to ``output_file_name`` in the output folder, one line per row, values separated by a space
  (Azure ML's default); ``summary_only`` writes no file.
- An MLflow model without a scoring script is scored with :mod:`.mlflow_scorer`.
- ``AZUREML_MODEL_DIR`` is set to ``model_dir`` before the script is imported.

Only the standard library is needed; pandas is used when ``run()`` returns a DataFrame.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import queue
import sys
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

BUILTIN_MLFLOW_SCORER = "azureml_emulator_batch.mlflow_scorer"


@dataclass(frozen=True)
class Settings:
    """What a batch deployment and its invocation ask for."""

    input_path: str
    output_dir: str
    scoring_script: str | None = None
    code_dir: str | None = None
    model_dir: str | None = None
    mini_batch_size: int = 10
    max_concurrency: int = 1
    max_retries: int = 3
    timeout_seconds: float = 30.0
    error_threshold: int = -1
    output_action: str = "append_row"
    output_file_name: str = "predictions.csv"


@dataclass
class Summary:
    """How a scoring run went (also written to stdout as its last line, as JSON)."""

    status: str = "Completed"
    mini_batches: int = 0
    mini_batches_completed: int = 0
    mini_batches_failed: int = 0
    items: int = 0
    failed_items: int = 0
    rows: int = 0
    error: str | None = None
    failures: list[str] = field(default_factory=list)
    #: Wall time of the scoring itself (workers started to output written), without the
    #: interpreter's own start-up.
    elapsed_seconds: float = 0.0


class ErrorThresholdExceeded(Exception):
    """More files failed than the deployment's error threshold allows."""


def list_inputs(input_path: str) -> list[str]:
    """Every file of the input (the file itself, or a folder's files recursively), in path order."""
    root = Path(input_path)
    if root.is_file():
        return [str(root)]
    if not root.is_dir():
        raise FileNotFoundError(f"The input {input_path} does not exist.")
    return sorted(str(p) for p in root.rglob("*") if p.is_file())


def mini_batches(files: list[str], size: int) -> list[list[str]]:
    """The files in consecutive groups of ``size``."""
    if size < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {size}.")
    return [files[i : i + size] for i in range(0, len(files), size)]


def load_scoring_module(settings: Settings) -> ModuleType:
    """Imports the scoring script (or the built-in MLflow scorer), with its code folder on sys.path."""
    if settings.model_dir is not None:
        os.environ["AZUREML_MODEL_DIR"] = settings.model_dir
    if settings.scoring_script is None:
        return importlib.import_module(BUILTIN_MLFLOW_SCORER)
    code_dir = Path(settings.code_dir or ".")
    script = code_dir / settings.scoring_script
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location("azureml_scoring_script", script)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot load the scoring script {script}.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("init", "run"):
        if not callable(getattr(module, name, None)):
            raise AttributeError(f"The scoring script {settings.scoring_script} defines no {name}().")
    return module


def rows_of(result: Any) -> list[str]:
    """The output lines of one ``run()`` result: list items, or DataFrame rows, space-separated."""
    if result is None:
        return []
    if hasattr(result, "itertuples") and hasattr(result, "columns"):
        return [" ".join(str(v) for v in row) for row in result.itertuples(index=False, name=None)]
    if isinstance(result, (str, bytes)):
        raise TypeError("run() must return a list of rows or a pandas DataFrame, not a string.")
    lines: list[str] = []
    for row in result:
        if isinstance(row, (list, tuple)):
            lines.append(" ".join(str(v) for v in row))
        else:
            lines.append(str(row))
    return lines


def _worker(settings: Settings, tasks: Any, results: Any, worker_id: int) -> None:
    """One worker process: init() once, then run() for every mini-batch it receives."""
    try:
        module = load_scoring_module(settings)
        module.init()
    except BaseException:
        results.put(("init_failed", worker_id, None, traceback.format_exc()))
        return
    results.put(("ready", worker_id, None, None))
    while True:
        task = tasks.get()
        if task is None:
            return
        index, files = task
        try:
            lines = rows_of(module.run(list(files)))
            results.put(("done", worker_id, index, lines))
        except BaseException:
            results.put(("failed", worker_id, index, traceback.format_exc()))


@dataclass
class _Worker:
    process: BaseProcess
    tasks: Any
    busy_with: int | None = None
    started_at: float = 0.0


def score(settings: Settings, log: Any = print) -> Summary:
    """Runs the whole scoring job; returns its summary (status Completed or Failed)."""
    started = time.monotonic()
    files = list_inputs(settings.input_path)
    batches = mini_batches(files, settings.mini_batch_size)
    summary = Summary(mini_batches=len(batches), items=len(files))
    output_dir = Path(settings.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    collected: dict[int, list[str]] = {}
    attempts = [0] * len(batches)
    pending = list(range(len(batches)))
    # Fork where the platform has it: a worker then starts in milliseconds instead of starting a
    # new interpreter (the scoring script is still imported, and init() run, in each worker).
    ctx: Any = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    results = ctx.Queue()
    workers: dict[int, _Worker] = {}
    next_worker_id = 0

    def start_worker() -> None:
        nonlocal next_worker_id
        tasks = ctx.Queue()
        process = ctx.Process(
            target=_worker, args=(settings, tasks, results, next_worker_id), daemon=True
        )
        process.start()
        workers[next_worker_id] = _Worker(process=process, tasks=tasks)
        next_worker_id += 1

    def stop_all() -> None:
        for worker in workers.values():
            worker.tasks.cancel_join_thread()
            if worker.process.is_alive():
                worker.process.kill()
            worker.process.join(timeout=5)
        workers.clear()
        results.cancel_join_thread()

    def record_failure(index: int, reason: str) -> None:
        attempts[index] += 1
        if attempts[index] <= settings.max_retries:
            log(f"mini-batch {index + 1}: attempt {attempts[index]} failed, retrying: {reason}")
            pending.append(index)
            return
        summary.mini_batches_failed += 1
        summary.failed_items += len(batches[index])
        summary.failures.append(f"mini-batch {index + 1}: {reason}")
        log(f"mini-batch {index + 1}: failed after {attempts[index]} attempts: {reason}")
        if 0 <= settings.error_threshold < summary.failed_items:
            raise ErrorThresholdExceeded(
                f"{summary.failed_items} files failed, more than the error threshold "
                f"({settings.error_threshold}); the scoring job stopped. Last failure: {reason}"
            )

    log(
        f"scoring {len(files)} files in {len(batches)} mini-batches of up to "
        f"{settings.mini_batch_size}, {settings.max_concurrency} at a time"
    )
    try:
        for _ in range(min(max(1, settings.max_concurrency), len(batches))):
            start_worker()
        ready: set[int] = set()
        while pending or any(w.busy_with is not None for w in workers.values()):
            for worker_id, worker in list(workers.items()):
                if worker_id in ready and worker.busy_with is None and pending:
                    index = pending.pop(0)
                    worker.busy_with = index
                    worker.started_at = time.monotonic()
                    worker.tasks.put((index, batches[index]))
            try:
                kind, worker_id, index, payload = results.get(timeout=0.05)
            except queue.Empty:
                kind = None
            if kind == "init_failed":
                raise RuntimeError(f"init() of the scoring script failed:\n{payload}")
            if kind == "ready":
                ready.add(worker_id)
            elif kind in ("done", "failed") and worker_id in workers:
                workers[worker_id].busy_with = None
                if kind == "done":
                    collected[index] = payload
                    summary.mini_batches_completed += 1
                    done_files = sum(len(batches[i]) for i in collected)
                    log(
                        f"mini-batches {summary.mini_batches_completed}/{len(batches)} done "
                        f"({done_files}/{len(files)} files, {summary.failed_items} failed)"
                    )
                else:
                    record_failure(index, str(payload).strip().splitlines()[-1])
            now = time.monotonic()
            for worker_id, worker in list(workers.items()):
                busy = worker.busy_with
                if busy is not None and now - worker.started_at > settings.timeout_seconds:
                    worker.process.kill()
                    worker.process.join(timeout=5)
                    del workers[worker_id]
                    ready.discard(worker_id)
                    start_worker()
                    record_failure(busy, f"timed out after {settings.timeout_seconds:g} s")
                elif not worker.process.is_alive():
                    del workers[worker_id]
                    ready.discard(worker_id)
                    start_worker()
                    if busy is not None:
                        record_failure(busy, f"the worker exited ({worker.process.exitcode})")
    except (ErrorThresholdExceeded, RuntimeError) as error:
        summary.status = "Failed"
        summary.error = str(error)
    finally:
        stop_all()
    if settings.output_action == "append_row" and summary.status == "Completed":
        lines = [line for i in sorted(collected) for line in collected[i]]
        summary.rows = len(lines)
        with open(output_dir / settings.output_file_name, "w", encoding="utf-8") as out:
            out.writelines(f"{line}\n" for line in lines)
    summary.elapsed_seconds = round(time.monotonic() - started, 3)
    return summary


def parse_args(argv: Iterable[str]) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--scoring-script")
    parser.add_argument("--code-dir")
    parser.add_argument("--model-dir")
    parser.add_argument("--mini-batch-size", type=int, default=10)
    parser.add_argument("--max-concurrency", type=int, default=1)
    parser.add_argument("--max-retries", type=int, default=3)
    parser.add_argument("--timeout-seconds", type=float, default=30.0)
    parser.add_argument("--error-threshold", type=int, default=-1)
    parser.add_argument("--output-action", choices=["append_row", "summary_only"], default="append_row")
    parser.add_argument("--output-file-name", default="predictions.csv")
    args = parser.parse_args(list(argv))
    return Settings(
        input_path=args.input,
        output_dir=args.output,
        scoring_script=args.scoring_script,
        code_dir=args.code_dir,
        model_dir=args.model_dir,
        mini_batch_size=args.mini_batch_size,
        max_concurrency=args.max_concurrency,
        max_retries=args.max_retries,
        timeout_seconds=args.timeout_seconds,
        error_threshold=args.error_threshold,
        output_action=args.output_action,
        output_file_name=args.output_file_name,
    )


def main(argv: Iterable[str] | None = None) -> int:
    """Scores, prints progress and a final JSON summary line; exit status 1 when the job failed."""
    settings = parse_args(sys.argv[1:] if argv is None else argv)
    summary = score(settings, log=lambda line: print(line, flush=True))
    if summary.error:
        print(f"error: {summary.error}", file=sys.stderr, flush=True)
    print(json.dumps(summary.__dict__), flush=True)
    return 0 if summary.status == "Completed" else 1


if __name__ == "__main__":
    sys.exit(main())
