"""Trains LightGBM on the iris CSV with the learning rate and boosting type a sweep trial gives.

The sweep of the Azure ML REST articles: each trial runs this script with
`--learning-rate ${{search_space.learning_rate}} --boosting ${{search_space.boosting}}`.
Autologging records the multi-class log loss of every boosting round on the held-out rows as
`test-multi_logloss` (the sweep's primary metric, which early termination can follow round by
round); the accuracy is logged as `accuracy`, and the model is written as an MLflow model.
"""
import argparse

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import pandas as pd
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iris-csv", required=True, help="the iris data set (a CSV file)")
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--boosting", default="gbdt", choices=["gbdt", "dart"])
    parser.add_argument("--num-boost-round", type=int, default=30)
    parser.add_argument("--model-output", required=True, help="folder for the MLflow model")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    mlflow.lightgbm.autolog(log_models=False)

    frame = pd.read_csv(args.iris_csv)
    features = frame.drop(columns=["species"])
    x_train, x_test, y_train, y_test = train_test_split(
        features, frame["species"], test_size=0.2, random_state=42, stratify=frame["species"]
    )

    # LightGBM's scikit-learn API, fitted on the species names: the saved MLflow model predicts
    # names, so a batch deployment scoring it without a scoring script (mlflow.pyfunc) appends
    # "setosa", "versicolor" or "virginica" to each row.
    classifier = lgb.LGBMClassifier(
        objective="multiclass",
        learning_rate=args.learning_rate,
        boosting_type=args.boosting,
        n_estimators=args.num_boost_round,
        random_state=42,
        verbose=-1,
    )
    with mlflow.start_run():
        classifier.fit(
            x_train,
            y_train,
            eval_set=[(x_train, y_train), (x_test, y_test)],
            eval_names=["train", "test"],
            eval_metric="multi_logloss",
        )
        accuracy = accuracy_score(y_test, classifier.predict(x_test))
        mlflow.log_metric("accuracy", float(accuracy))
        print(f"boosting={args.boosting} learning_rate={args.learning_rate} accuracy={accuracy:.4f}")

        # The trial's mlflow_model output: the best trial's is registered as a ModelVersion.
        mlflow.lightgbm.save_model(classifier, args.model_output)


if __name__ == "__main__":
    main()
