"""The sampler against Optuna itself: each algorithm, each distribution, the JSON-lines protocol."""

from __future__ import annotations

import io
import itertools
import json
import math
from typing import Any

import pytest

from azureml_emulator_sweep.sampler import Sweep, serve
from azureml_emulator_sweep.space import SearchSpaceError, parse_search_space

SPACE: dict[str, Any] = {
    "lr": ["uniform", [0.01, 0.9]],
    "boosting": ["choice", [["gbdt", "dart"]]],
}


def draw(config: dict[str, Any], n: int) -> list[dict[str, Any]]:
    sweep = Sweep(config)
    out: list[dict[str, Any]] = []
    for _ in range(n):
        asked = sweep.ask()
        sweep.tell(asked["number"], "complete", float(len(out)))
        out.append(asked["params"])
    return out


def test_grid_enumerates_every_combination_then_is_exhausted() -> None:
    space = {"a": ["choice", [[1, 2, 3]]], "b": ["choice", [["x", "y"]]]}
    sweep = Sweep({"searchSpace": space, "samplingAlgorithm": {"samplingAlgorithmType": "Grid"}})
    assert sweep.grid_size == 6
    seen = []
    for _ in range(6):
        asked = sweep.ask()
        sweep.tell(asked["number"], "complete", 1.0)
        seen.append((asked["params"]["a"], asked["params"]["b"]))
    assert sorted(seen) == sorted(itertools.product([1, 2, 3], ["x", "y"]))
    assert sweep.ask() == {"exhausted": True}


def test_grid_refuses_a_continuous_distribution() -> None:
    with pytest.raises(SearchSpaceError) as error:
        Sweep({"searchSpace": SPACE, "samplingAlgorithm": {"samplingAlgorithmType": "Grid"}})
    assert error.value.target == "searchSpace.lr"


@pytest.mark.parametrize("rule", ["Random", "Sobol"])
def test_random_and_sobol_are_reproducible_under_a_seed(rule: str) -> None:
    config = {
        "searchSpace": SPACE,
        "samplingAlgorithm": {"samplingAlgorithmType": "Random", "rule": rule, "seed": 7},
    }
    first, second = draw(config, 6), draw(config, 6)
    assert first == second
    other = draw({**config, "samplingAlgorithm": {**config["samplingAlgorithm"], "seed": 8}}, 6)
    assert other != first
    assert all(0.01 <= p["lr"] <= 0.9 and p["boosting"] in ("gbdt", "dart") for p in first)


def test_sobol_spreads_the_first_points_over_the_space() -> None:
    # A scrambled Sobol sequence puts exactly one of its first 2 points in each half, and one of
    # its first 4 in each quarter, of a one-dimensional space (from the first trial on).
    config = {
        "searchSpace": {"x": ["uniform", [0, 1]]},
        "samplingAlgorithm": {"samplingAlgorithmType": "Random", "rule": "Sobol", "seed": 3},
    }
    xs = [p["x"] for p in draw(config, 4)]
    assert sorted(int(x * 2) for x in xs[:2]) == [0, 1]
    assert sorted(int(x * 4) for x in xs) == [0, 1, 2, 3]


def test_bayesian_proposes_inside_the_bounds() -> None:
    space = {
        "lr": ["loguniform", [math.log(1e-4), math.log(1e-1)]],
        "depth": ["quniform", [2, 10, 1]],
        "kind": ["choice", [["a", "b", "c"]]],
    }
    sweep = Sweep({"searchSpace": space, "samplingAlgorithm": {"samplingAlgorithmType": "Bayesian"}, "seed": 1})
    for i in range(15):
        asked = sweep.ask()
        p = asked["params"]
        assert 1e-4 * 0.999999 <= p["lr"] <= 1e-1 * 1.000001
        assert isinstance(p["depth"], int) and 2 <= p["depth"] <= 10
        assert p["kind"] in ("a", "b", "c")
        sweep.tell(asked["number"], "complete", -abs(math.log10(p["lr"]) + 2))


def test_each_distribution_maps_to_its_azure_values() -> None:
    space = {
        "c": ["choice", [[[1, 2], {"k": 1}]]],
        "r": ["randint", [5]],
        "qu": ["quniform", [0, 1, 0.25]],
        "lu": ["loguniform", [0, 1]],
        "qlu": ["qloguniform", [0, 3, 2]],
        "n": ["normal", [10, 2]],
        "qn": ["qnormal", [10, 2, 3]],
        "ln": ["lognormal", [0, 1]],
        "qln": ["qlognormal", [0, 1, 0.5]],
    }
    config = {"searchSpace": space, "samplingAlgorithm": {"samplingAlgorithmType": "Random", "seed": 11}}
    for p in draw(config, 40):
        assert p["c"] in ([1, 2], {"k": 1})
        assert p["r"] in range(5)
        assert p["qu"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert 1.0 <= p["lu"] <= math.e
        assert isinstance(p["qlu"], int) and p["qlu"] % 2 == 0 and 0 <= p["qlu"] <= 22
        assert isinstance(p["n"], float)
        assert isinstance(p["qn"], int) and p["qn"] % 3 == 0
        assert p["ln"] > 0
        assert p["qln"] >= 0 and abs(p["qln"] / 0.5 - round(p["qln"] / 0.5)) < 1e-9


def test_normal_samples_follow_mu_and_sigma() -> None:
    config = {
        "searchSpace": {"n": ["normal", [10, 2]]},
        "samplingAlgorithm": {"samplingAlgorithmType": "Random", "seed": 5},
    }
    xs = [p["n"] for p in draw(config, 400)]
    mean = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))
    assert abs(mean - 10) < 0.4 and abs(sd - 2) < 0.4


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["uniform", [2, 1]], "above its maximum"),
        (["uniform", [1]], "takes 2 argument"),
        (["quniform", [0, 1, 0]], "q of x must be positive"),
        (["normal", [0, -1]], "sigma of x must be positive"),
        (["choice", [1, 2]], "takes 1 argument"),
        (["choice", [[]]], "non-empty list"),
        (["randint", [0]], "integer >= 1"),
        (["beta", [1, 2]], "unknown distribution"),
        ("uniform", "must be"),
    ],
)
def test_bad_distributions_are_refused_naming_the_parameter(spec: Any, message: str) -> None:
    with pytest.raises(SearchSpaceError) as error:
        parse_search_space({"x": spec})
    assert error.value.target == "searchSpace.x"
    assert message in str(error.value)


def test_the_protocol_asks_tells_and_reports_errors() -> None:
    lines = [
        json.dumps({"searchSpace": {"a": ["choice", [[1, 2]]]}, "samplingAlgorithm": {"samplingAlgorithmType": "Grid"}}),
        json.dumps({"op": "ask"}),
        json.dumps({"op": "tell", "number": 0, "state": "pruned"}),
        json.dumps({"op": "ask"}),
        json.dumps({"op": "tell", "number": 1, "state": "complete", "value": 0.5}),
        json.dumps({"op": "ask"}),
        json.dumps({"op": "tell", "number": 99, "state": "fail"}),
    ]
    out = io.StringIO()
    serve(io.StringIO("\n".join(lines) + "\n"), out)
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert replies[0] == {"ready": True, "gridSize": 2}
    assert {replies[1]["params"]["a"], replies[3]["params"]["a"]} == {1, 2}
    assert replies[2] == {"ok": True} and replies[4] == {"ok": True}
    assert replies[5] == {"exhausted": True}
    assert "KeyError" in replies[6]["error"]["message"]


def test_a_refused_space_is_the_first_reply() -> None:
    out = io.StringIO()
    serve(
        io.StringIO(json.dumps({"searchSpace": {"x": ["uniform", [3, 1]]}, "samplingAlgorithm": {"samplingAlgorithmType": "Random"}}) + "\n"),
        out,
    )
    assert json.loads(out.getvalue())["error"]["target"] == "searchSpace.x"
