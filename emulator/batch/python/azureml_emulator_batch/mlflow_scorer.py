"""Scores an MLflow model without a scoring script, as Azure ML does for MLflow batch deployments:
the model (the folder holding ``MLmodel`` under ``AZUREML_MODEL_DIR``) is loaded with
``mlflow.pyfunc``, every input file (CSV, or Parquet by extension) is read as a table, and each of
its rows is returned with a ``prediction`` column appended."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_model: Any = None


def model_folder(root: str) -> str:
    """The folder holding ``MLmodel``: ``root`` itself or the first one below it."""
    base = Path(root)
    if (base / "MLmodel").is_file():
        return str(base)
    for candidate in sorted(base.rglob("MLmodel")):
        return str(candidate.parent)
    raise FileNotFoundError(f"No MLmodel file under {root}: the model is not an MLflow model.")


def init() -> None:
    global _model
    import mlflow.pyfunc

    _model = mlflow.pyfunc.load_model(model_folder(os.environ["AZUREML_MODEL_DIR"]))


def run(mini_batch: list[str]) -> Any:
    import pandas as pd

    frames = []
    for file in mini_batch:
        data = pd.read_parquet(file) if file.endswith(".parquet") else pd.read_csv(file)
        predictions = _model.predict(data)
        scored = data.copy()
        scored["prediction"] = list(predictions)
        frames.append(scored)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
