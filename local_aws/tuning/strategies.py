"""How a tuning job chooses the next hyperparameters: Random, Grid or Bayesian, as AWS's strategies do.

Random draws each hyperparameter independently (RandomSeed makes it repeatable); Grid runs every
combination of the categorical and integer values once; Bayesian learns from the objective values seen
so far, here with Optuna's TPE sampler (a Bayesian optimisation method; AWS does not document its own
model). Hyperband needs its early stopping of running jobs and is refused at Create.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Protocol

from local_aws.tuning.ranges import Range, grid


class Strategy(Protocol):
    def suggest(self) -> tuple[int, dict[str, str]] | None:
        """(a handle for `observe`, the hyperparameters of the next training job); None when it has no more."""

    def observe(self, handle: int, objective: float | None) -> None:
        """The objective the job reached; None when it failed or reported none."""


class RandomSearch:
    def __init__(self, ranges: list[Range], seed: int | None):
        self.ranges, self.rng = ranges, random.Random(seed)

    def suggest(self) -> tuple[int, dict[str, str]] | None:
        return 0, {r.name: r.sample(self.rng) for r in self.ranges}

    def observe(self, handle: int, objective: float | None) -> None:
        pass


class GridSearch:
    def __init__(self, ranges: list[Range]):
        self.remaining = grid(ranges)

    @property
    def size(self) -> int:
        return len(self.remaining)

    def suggest(self) -> tuple[int, dict[str, str]] | None:
        return (0, self.remaining.pop(0)) if self.remaining else None

    def observe(self, handle: int, objective: float | None) -> None:
        pass


class BayesianSearch:
    """Optuna's TPE sampler, asked for one trial per training job and told each job's objective."""

    def __init__(self, ranges: list[Range], minimize: bool, seed: int | None):
        import optuna  # a second to import: only when a Bayesian tuning job runs

        optuna.logging.set_verbosity(logging.WARNING)
        self.optuna, self.ranges = optuna, ranges
        self.study = optuna.create_study(
            direction="minimize" if minimize else "maximize", sampler=optuna.samplers.TPESampler(seed=seed)
        )
        self.trials: dict[int, object] = {}
        self.lock = threading.Lock()

    def _distribution(self, r: Range):
        dist = self.optuna.distributions
        if r.kind == "Categorical":
            return dist.CategoricalDistribution(list(r.values))
        if r.scaling == "ReverseLogarithmic":  # sampled as 1 - x on a log scale, mapped back below
            return dist.FloatDistribution(1 - r.high, 1 - r.low, log=True)
        log = r.scaling == "Logarithmic"
        if r.kind == "Integer":
            return dist.IntDistribution(int(r.low), int(r.high), log=log)
        return dist.FloatDistribution(r.low, r.high, log=log)

    def suggest(self) -> tuple[int, dict[str, str]] | None:
        with self.lock:
            trial = self.study.ask({r.name: self._distribution(r) for r in self.ranges})
            self.trials[trial.number] = trial
        values = {}
        for r in self.ranges:
            value = trial.params[r.name]
            values[r.name] = (
                value if r.kind == "Categorical" else r.text(1 - value if r.scaling == "ReverseLogarithmic" else value)
            )
        return trial.number, values

    def observe(self, handle: int, objective: float | None) -> None:
        with self.lock:
            trial = self.trials.pop(handle)
            if objective is None:
                self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(trial, objective)


def strategy_for(name: str, ranges: list[Range], minimize: bool, seed: int | None) -> Strategy:
    if name == "Grid":
        return GridSearch(ranges)
    if name == "Random":
        return RandomSearch(ranges, seed)
    return BayesianSearch(ranges, minimize, seed)
