"""SageMaker Experiments in moto's state: the experiments and trials a pipeline execution records.

moto keeps experiments, trials and trial components and answers their API itself; local_aws adds
the ones SageMaker Pipelines creates for each execution (local_aws.pipelines.experiments). Like
moto_state, this module knows moto's internals; its writes are saved with moto's state.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker.models import sagemaker_backends

from local_aws.core.moto import state as moto_state


def _sagemaker(region: str, account_id: str) -> Any:
    return sagemaker_backends[account_id][region]


def describe_experiment(region: str, account_id: str, name: str) -> dict | None:
    """DescribeExperiment's answer as moto gives it, or None when there is no such experiment."""
    backend = _sagemaker(region, account_id)
    return backend.describe_experiment(name) if name in backend.experiments else None


def ensure_trial(region: str, account_id: str, experiment: str, trial: str | None) -> None:
    """Create the experiment, then the trial in it, each unless it exists (an existing trial is kept as it is)."""
    backend = _sagemaker(region, account_id)
    try:
        if experiment not in backend.experiments:
            backend.create_experiment(experiment)
        if trial and trial not in backend.trials:
            backend.create_trial(trial, experiment)
    finally:
        moto_state.STATE.changed()
