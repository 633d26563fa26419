"""Batch scoring script (Azure ML's batch contract): init() once per worker, run(mini_batch) for
every mini-batch of files. Scores iris measurements with a logistic regression kept as JSON."""

from __future__ import annotations

import glob
import json
import math
import os
from typing import Any

import pandas as pd

model: dict[str, Any] = {}


def init() -> None:
    # AZUREML_MODEL_DIR is where Azure ML put the registered model's files.
    [path] = glob.glob(os.path.join(os.environ["AZUREML_MODEL_DIR"], "**", "iris-logistic.json"), recursive=True)
    with open(path, encoding="utf-8") as f:
        model.update(json.load(f))


def predict(row: pd.Series) -> tuple[str, float]:
    scores = [
        intercept + sum(w * float(row[name]) for w, name in zip(weights, model["features"]))
        for intercept, weights in zip(model["intercepts"], model["coefficients"])
    ]
    top = max(scores)
    total = sum(math.exp(s - top) for s in scores)
    best = scores.index(top)
    return model["classes"][best], round(1 / total, 4)


def run(mini_batch: list[str]) -> pd.DataFrame:
    frames = []
    for file in mini_batch:
        data = pd.read_csv(file)
        predicted = data.apply(predict, axis=1, result_type="expand")
        frames.append(
            pd.DataFrame(
                {
                    "file": os.path.basename(file),
                    "row": range(len(data)),
                    "species": predicted[0],
                    "probability": predicted[1],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
