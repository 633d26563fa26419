"""The sweep sampler: one Optuna study per sweep, driven in ask/tell style over JSON lines.

The emulator's sweep controller (emulator/sweep/sampler.ts) starts this process per sweep and owns
everything else (trials as child jobs, limits, early termination, the best trial). Protocol, one
JSON object per line:

* first line in: ``{"searchSpace": {...}, "samplingAlgorithm": {...}, "goal": "Maximize",
  "seed": <int, for algorithms without their own>}``; out: ``{"ready": true, "gridSize": n|null}``
  or ``{"error": {...}}``;
* ``{"op": "ask"}`` -> ``{"number": n, "params": {...}}``, or ``{"exhausted": true}`` once a grid
  has been enumerated;
* ``{"op": "tell", "number": n, "state": "complete"|"fail"|"pruned", "value": x|null}`` ->
  ``{"ok": true}``.

Azure's algorithms map onto Optuna's samplers: Random -> RandomSampler(seed), Random with rule
Sobol -> QMCSampler(sobol, scrambled, seed) over the whole search space from the first trial on,
Grid -> GridSampler over every combination of the choices, Bayesian -> TPESampler.
"""

from __future__ import annotations

import json
import math
import logging
import sys
import warnings
from typing import IO, Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

from .space import Parameter, SearchSpaceError, parse_search_space


def internal_distribution(p: Parameter) -> BaseDistribution:
    """The distribution Optuna samples for ``p`` (see space.py for why each is exact)."""
    a = p.args
    if p.kind == "choice":
        return CategoricalDistribution(list(range(len(p.choices))))
    if p.kind == "randint":
        return IntDistribution(0, int(a[0]) - 1)
    if p.kind in ("uniform", "quniform"):
        return FloatDistribution(float(a[0]), float(a[1]))
    if p.kind in ("loguniform", "qloguniform"):
        return FloatDistribution(math.exp(float(a[0])), math.exp(float(a[1])), log=True)
    return FloatDistribution(0.0, 1.0)  # the normal family: a quantile


class _FixedSpaceQMCSampler(optuna.samplers.QMCSampler):
    """QMCSampler that knows the whole search space up front.

    Optuna's QMCSampler samples the first trial independently and infers the space from it; a
    sweep's space is declared, so every trial, the first and concurrent ones included, is a
    point of the one scrambled Sobol sequence.
    """

    def __init__(self, space: dict[str, BaseDistribution], seed: int | None) -> None:
        super().__init__(
            qmc_type="sobol",
            scramble=True,
            seed=seed,
            warn_asynchronous_seeding=False,
            warn_independent_sampling=False,
        )
        self._space = space

    def infer_relative_search_space(
        self, study: optuna.Study, trial: optuna.trial.FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return dict(self._space)


class _AskTellGridSampler(optuna.samplers.GridSampler):
    """GridSampler without ``study.stop()`` once the grid is covered (there is no ``optimize``
    loop to stop in ask/tell use; the sweep stops asking when ``gridSize`` trials were asked)."""

    def after_trial(
        self,
        study: optuna.Study,
        trial: optuna.trial.FrozenTrial,
        state: TrialState,
        values: Any,
    ) -> None:
        return None


class Sweep:
    """One sweep's study."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.params = parse_search_space(config.get("searchSpace"))
        self.space = {p.name: internal_distribution(p) for p in self.params}
        algorithm = config.get("samplingAlgorithm") or {}
        kind = str(algorithm.get("samplingAlgorithmType", "")).lower()
        default_seed = config.get("seed")
        self.grid_size: int | None = None
        sampler: optuna.samplers.BaseSampler
        if kind == "grid":
            self.grid_size = 1
            for p in self.params:
                self.grid_size *= p.grid_size()
            grid: dict[str, list[Any]] = {p.name: list(range(p.grid_size())) for p in self.params}
            sampler = _AskTellGridSampler(grid, seed=default_seed)
        elif kind == "random":
            seed = algorithm.get("seed", default_seed)
            if str(algorithm.get("rule", "Random")).lower() == "sobol":
                sampler = _FixedSpaceQMCSampler(self.space, seed)
            else:
                sampler = optuna.samplers.RandomSampler(seed=seed)
        elif kind == "bayesian":
            sampler = optuna.samplers.TPESampler(seed=default_seed)
        else:
            raise SearchSpaceError(
                "samplingAlgorithm.samplingAlgorithmType",
                f"Unknown sampling algorithm '{algorithm.get('samplingAlgorithmType')}'.",
            )
        goal = str(config.get("goal", "Maximize")).lower()
        self.study = optuna.create_study(
            sampler=sampler, direction="minimize" if goal == "minimize" else "maximize"
        )
        self.trials: dict[int, optuna.trial.Trial] = {}

    def ask(self) -> dict[str, Any]:
        if self.grid_size is not None and len(self.trials) >= self.grid_size:
            return {"exhausted": True}
        trial = self.study.ask(fixed_distributions=self.space)
        self.trials[trial.number] = trial
        return {
            "number": trial.number,
            "params": {p.name: p.to_value(trial.params[p.name]) for p in self.params},
        }

    def tell(self, number: int, state: str, value: float | None) -> dict[str, Any]:
        trial = self.trials[number]
        if state == "complete" and value is not None:
            self.study.tell(trial, value)
        elif state == "pruned":
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            self.study.tell(trial, state=TrialState.FAIL)
        return {"ok": True}


def serve(stdin: IO[str], stdout: IO[str]) -> None:
    """Runs the protocol until stdin closes."""

    def reply(message: dict[str, Any]) -> None:
        stdout.write(json.dumps(message) + "\n")
        stdout.flush()

    first = stdin.readline()
    if first == "":
        return
    try:
        sweep = Sweep(json.loads(first))
    except SearchSpaceError as error:
        reply({"error": {"target": error.target, "message": str(error)}})
        return
    reply({"ready": True, "gridSize": sweep.grid_size})
    for line in stdin:
        if line.strip() == "":
            continue
        request = json.loads(line)
        try:
            if request.get("op") == "ask":
                reply(sweep.ask())
            elif request.get("op") == "tell":
                value = request.get("value")
                reply(
                    sweep.tell(
                        int(request["number"]),
                        str(request.get("state", "fail")),
                        None if value is None else float(value),
                    )
                )
            else:
                reply({"error": {"message": f"unknown op {request.get('op')!r}"}})
        except Exception as error:  # noqa: BLE001 - reported to the controller, which fails the sweep
            reply({"error": {"message": f"{type(error).__name__}: {error}"}})


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.captureWarnings(True)
    warnings.simplefilter("ignore")
    serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
