"""A tuning job's ParameterRanges: checked as AWS checks them, sampled with their scaling, enumerated for Grid.

Integer and continuous ranges scale as AWS documents: Linear samples uniformly, Logarithmic uniformly in
log space (MinValue must be above 0), ReverseLogarithmic uniformly in log(1 - x) (continuous only, with
0 <= MinValue and MaxValue < 1), Auto as Linear. Values are handed to the training job as strings, as
SageMaker hands every hyperparameter.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

from local_aws.core.gateway.errors import ValidationException


@dataclass(frozen=True)
class Range:
    name: str
    kind: str  # "Integer", "Continuous" or "Categorical"
    low: float = 0.0
    high: float = 0.0
    scaling: str = "Linear"
    values: tuple[str, ...] = ()

    def sample(self, rng: random.Random) -> str:
        """One value drawn at random with the range's scaling."""
        if self.kind == "Categorical":
            return rng.choice(self.values)
        if self.scaling == "Logarithmic":
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        elif self.scaling == "ReverseLogarithmic":
            value = 1 - math.exp(rng.uniform(math.log(1 - self.high), math.log(1 - self.low)))
        else:
            value = rng.uniform(self.low, self.high)
        return self.text(value)

    def text(self, value: float) -> str:
        if self.kind == "Integer":
            return str(min(int(self.high), max(int(self.low), round(value))))
        return repr(min(self.high, max(self.low, float(value))))

    def grid(self) -> list[str]:
        """Every value Grid search tries: each integer in the range, or each category."""
        if self.kind == "Integer":
            return [str(v) for v in range(int(self.low), int(self.high) + 1)]
        return list(self.values)


def parse(parameter_ranges: dict, strategy: str) -> list[Range]:
    """The ranges of a HyperParameterTuningJobConfig, refused as AWS refuses them."""
    ranges = []
    for key, kind in (("IntegerParameterRanges", "Integer"), ("ContinuousParameterRanges", "Continuous")):
        for item in parameter_ranges.get(key) or []:
            low, high, scaling = float(item["MinValue"]), float(item["MaxValue"]), item.get("ScalingType", "Auto")
            _check_bounds(item["Name"], kind, low, high, scaling)
            ranges.append(Range(item["Name"], kind, low, high, "Linear" if scaling == "Auto" else scaling))
    for item in parameter_ranges.get("CategoricalParameterRanges") or []:
        ranges.append(Range(item["Name"], "Categorical", values=tuple(item["Values"])))
    names = [r.name for r in ranges]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValidationException(
            f"The hyperparameter(s) {', '.join(duplicated)} appear in more than one range; "
            "give each hyperparameter one range."
        )
    if not ranges:
        raise ValidationException("ParameterRanges must define at least one hyperparameter range to tune.")
    if strategy == "Grid" and any(r.kind == "Continuous" for r in ranges):
        raise ValidationException(
            "The Grid strategy does not support ContinuousParameterRanges: use "
            "IntegerParameterRanges or CategoricalParameterRanges, or another strategy."
        )
    return ranges


def _check_bounds(name: str, kind: str, low: float, high: float, scaling: str) -> None:
    if not math.isfinite(low) or not math.isfinite(high) or low > high:
        raise ValidationException(
            f"The range of hyperparameter {name} is invalid: MinValue {low:g} must not exceed MaxValue {high:g}."
        )
    if kind == "Integer" and (low != int(low) or high != int(high)):
        raise ValidationException(f"IntegerParameterRange {name} needs whole numbers as MinValue and MaxValue.")
    if scaling == "Logarithmic" and low <= 0:
        raise ValidationException(f"Logarithmic scaling of hyperparameter {name} needs MinValue greater than 0.")
    if scaling == "ReverseLogarithmic" and (kind == "Integer" or not 0 <= low <= high < 1):
        raise ValidationException(
            f"ReverseLogarithmic scaling of hyperparameter {name} needs a continuous range "
            "with 0 <= MinValue <= MaxValue < 1."
        )


def grid(ranges: list[Range]) -> list[dict[str, str]]:
    """Every combination Grid search runs, in a fixed order."""
    return [dict(zip((r.name for r in ranges), combo)) for combo in itertools.product(*(r.grid() for r in ranges))]
