"""Azure ML's search-space syntax (contract 4.7) and how each distribution maps onto Optuna.

Each Azure distribution is sampled by Optuna in an *internal* space and turned into the value a
trial gets by ``to_value``. The internal space is chosen so the mapping is exact:

* ``choice([[v...]])``: a categorical over the choices' indices (so any JSON value can be a choice);
* ``randint([upper])``: an integer in ``[0, upper)``;
* ``uniform([lo, hi])``: a float in ``[lo, hi]``; ``quniform`` rounds it to a multiple of ``q``;
* ``loguniform([lo, hi])``: ``exp(uniform(lo, hi))``, sampled log-uniformly in ``[e^lo, e^hi]``;
  ``qloguniform`` rounds it to a multiple of ``q``;
* ``normal([mu, sigma])``: a float ``u`` in ``(0, 1)`` pushed through the normal's inverse CDF
  (Optuna has no normal distribution; this is exact for random sampling, and gives Sobol and
  Bayesian sampling a bounded space); ``lognormal`` is its exponential; the ``q`` forms round.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

# Arguments each distribution takes.
ARITY: dict[str, int] = {
    "choice": 1,
    "randint": 1,
    "uniform": 2,
    "loguniform": 2,
    "normal": 2,
    "lognormal": 2,
    "quniform": 3,
    "qloguniform": 3,
    "qnormal": 3,
    "qlognormal": 3,
}

# Keeps the inverse normal CDF finite.
_EPSILON = 1e-12


class SearchSpaceError(ValueError):
    """A search space Azure would refuse; ``target`` names the parameter."""

    def __init__(self, target: str, message: str) -> None:
        super().__init__(message)
        self.target = target


@dataclass(frozen=True)
class Parameter:
    """One hyperparameter: its Azure distribution and arguments."""

    name: str
    kind: str
    args: tuple[Any, ...]

    @property
    def choices(self) -> list[Any]:
        return list(self.args[0]) if self.kind == "choice" else []

    def grid_size(self) -> int:
        if self.kind == "choice":
            return len(self.choices)
        raise SearchSpaceError(
            f"searchSpace.{self.name}",
            f"Grid sampling supports choice only; {self.name} is {self.kind}.",
        )

    def to_value(self, internal: Any) -> Any:
        """The value a trial gets for the internal sample Optuna drew."""
        kind, a = self.kind, self.args
        if kind == "choice":
            return self.choices[int(internal)]
        if kind == "randint":
            return int(internal)
        if kind in ("uniform", "loguniform"):
            return float(internal)
        if kind in ("quniform", "qloguniform"):
            return _quantize(float(internal), float(a[2]))
        u = min(max(float(internal), _EPSILON), 1 - _EPSILON)
        x = NormalDist(float(a[0]), float(a[1])).inv_cdf(u)
        if kind == "normal":
            return x
        if kind == "qnormal":
            return _quantize(x, float(a[2]))
        if kind == "lognormal":
            return math.exp(x)
        return _quantize(math.exp(x), float(a[2]))  # qlognormal


def _quantize(x: float, q: float) -> float | int:
    """``round(x / q) * q``, an int when ``q`` is a whole number (Azure passes ``10``, not ``10.0``)."""
    value = round(x / q) * q
    if float(q).is_integer():
        return int(round(value))
    # Trim the binary noise of the multiplication (0.30000000000000004 -> 0.3).
    return float(f"{value:.12g}")


def parse_search_space(raw: Any) -> list[Parameter]:
    """Parses ``{"x": ["uniform", [0, 1]], ...}``, refusing what Azure refuses."""
    if not isinstance(raw, dict) or len(raw) == 0:
        raise SearchSpaceError("searchSpace", "searchSpace must name at least one parameter.")
    params: list[Parameter] = []
    for name, spec in raw.items():
        target = f"searchSpace.{name}"
        if (
            not isinstance(spec, list)
            or len(spec) != 2
            or not isinstance(spec[0], str)
            or not isinstance(spec[1], list)
        ):
            raise SearchSpaceError(
                target, f'{name} must be ["<distribution>", [<arguments>]], got {spec!r}.'
            )
        kind, args = spec[0].lower(), spec[1]
        if kind not in ARITY:
            raise SearchSpaceError(target, f"{name} uses the unknown distribution '{spec[0]}'.")
        if len(args) != ARITY[kind]:
            raise SearchSpaceError(
                target, f"{kind} takes {ARITY[kind]} argument(s); {name} gives {len(args)}."
            )
        if kind == "choice":
            if not isinstance(args[0], list) or len(args[0]) == 0:
                raise SearchSpaceError(
                    target, 'choice takes one non-empty list of values: ["choice", [[...]]].'
                )
        else:
            if not all(_is_number(v) for v in args):
                raise SearchSpaceError(target, f"{kind} arguments of {name} must be numbers.")
            if kind == "randint" and (not float(args[0]).is_integer() or args[0] < 1):
                raise SearchSpaceError(target, f"randint upper bound of {name} must be an integer >= 1.")
            if kind in ("uniform", "loguniform", "quniform", "qloguniform") and args[0] > args[1]:
                raise SearchSpaceError(
                    target, f"The minimum of {name} ({args[0]}) is above its maximum ({args[1]})."
                )
            if kind in ("normal", "lognormal", "qnormal", "qlognormal") and args[1] <= 0:
                raise SearchSpaceError(target, f"sigma of {name} must be positive.")
            if kind.startswith("q") and args[2] <= 0:
                raise SearchSpaceError(target, f"q of {name} must be positive.")
        params.append(Parameter(name, kind, tuple(args)))
    return params


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
