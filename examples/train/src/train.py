"""Trains a LightGBM classifier on the iris CSV and writes it as an MLflow model.

Azure ML starts the job with MLFLOW_TRACKING_URI and MLFLOW_RUN_ID set, so mlflow.start_run()
continues the job's own run: autologging records the parameters, the per-round training metrics
and the model, and the test accuracy is logged as the metric "accuracy".
"""
import argparse

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iris-csv", required=True, help="the iris data set (a CSV file)")
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--num-boost-round", type=int, default=50)
    parser.add_argument("--model-output", required=True, help="folder for the MLflow model")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    mlflow.lightgbm.autolog(log_models=False)

    frame = pd.read_csv(args.iris_csv)
    species = sorted(frame["species"].unique())
    labels = frame["species"].map({name: index for index, name in enumerate(species)})
    features = frame.drop(columns=["species"])
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=0.2, random_state=42, stratify=labels
    )

    params = {
        "objective": "multiclass",
        "num_class": len(species),
        "learning_rate": args.learning_rate,
        "metric": "multi_logloss",
        "verbose": -1,
        "seed": 42,
    }
    with mlflow.start_run():
        train_set = lgb.Dataset(x_train, label=y_train)
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=args.num_boost_round,
            valid_sets=[train_set],
            valid_names=["train"],
        )
        probabilities = booster.predict(x_test)
        predictions = probabilities.argmax(axis=1)
        accuracy = accuracy_score(y_test, predictions)
        loss = log_loss(y_test, probabilities, labels=list(range(len(species))))
        mlflow.log_metric("accuracy", float(accuracy))
        mlflow.log_metric("test_log_loss", float(loss))
        print(f"accuracy={accuracy:.4f} log_loss={loss:.4f} on {len(y_test)} test rows")

        # The job's mlflow_model output: an MLflow model folder a ModelVersion can register.
        mlflow.lightgbm.save_model(booster, args.model_output)
        print(f"model written to {args.model_output}")


if __name__ == "__main__":
    main()
