"""Hyperparameter tuning jobs through boto3: each strategy launches real training jobs (framework script
mode, as the SDK's HyperparameterTuner sends them), reads the objective from their logs with the
MetricDefinitions regexes, and reports counters, the best job and each job's summary as AWS does."""

from __future__ import annotations

import math

import pytest
from support import error_of, wait_until
from support.jobs import IMAGE, ROLE, TRAINING_BUCKET, put_source_archive

# A "model" whose loss is smallest at x = 3 and depth = 4: the objective printed as the log line `loss=<value>`.
TRAIN = """
    import argparse, time
    parser = argparse.ArgumentParser()
    parser.add_argument("-x", type=float, default=0.0)  # the toolkit passes a one-letter name as -x
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--kind", default="a")
    parser.add_argument("--sleep", type=float, default=0)
    args = parser.parse_args()
    time.sleep(args.sleep)
    loss = (args.x - 3) ** 2 + (args.depth - 4) ** 2 + (0.5 if args.kind == "b" else 0)
    print(f"epoch 1 loss={loss + 1:.4f}")
    print(f"epoch 2 loss={loss:.4f}")
"""
OBJECTIVE = {"Type": "Minimize", "MetricName": "loss"}


@pytest.fixture()
def sm(clients):
    s3, sm, _ = clients
    put_source_archive(s3, "tuning/sourcedir.tar.gz", {"train.py": TRAIN})
    return sm


def definition(sleep: int = 0, **extra) -> dict:
    static = {
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": f"s3://{TRAINING_BUCKET}/tuning/sourcedir.tar.gz",
    }
    return {
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
        },
        "RoleArn": ROLE,
        "StaticHyperParameters": {**static, "sleep": str(sleep)} if sleep else static,
        "OutputDataConfig": {"S3OutputPath": f"s3://{TRAINING_BUCKET}/tuned"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        **extra,
    }


def create(
    sm, name: str, strategy: str, ranges: dict, max_jobs: int | None = 4, parallel: int = 2, sleep: int = 0, **config
):
    limits = {"MaxParallelTrainingJobs": parallel, **({"MaxNumberOfTrainingJobs": max_jobs} if max_jobs else {})}
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        TrainingJobDefinition=definition(sleep),
        HyperParameterTuningJobConfig={
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": OBJECTIVE,
            "ResourceLimits": limits,
            "ParameterRanges": ranges,
            "TrainingJobEarlyStoppingType": "Off",
            **config,
        },
    )


def finished(sm, name: str, timeout: float = 120) -> dict:
    return wait_until(
        lambda: sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
        lambda d: d["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped"),
        timeout,
    )


def test_random_search_runs_its_budget_two_at_a_time_and_names_the_best_job(sm):
    create(
        sm,
        "random-tune",
        "Random",
        {
            "ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "6", "ScalingType": "Linear"}],
            "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "8", "ScalingType": "Auto"}],
        },
        max_jobs=4,
        RandomSeed=7,
    )
    described = finished(sm, "random-tune")
    assert described["HyperParameterTuningJobStatus"] == "Completed", described.get("FailureReason")
    assert described["TrainingJobStatusCounters"] == {
        "Completed": 4,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    jobs = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="random-tune", SortBy="FinalObjectiveMetricValue"
    )["TrainingJobSummaries"]
    assert len(jobs) == 4 and all(j["TrainingJobName"].startswith("random-tune-0") for j in jobs)
    values = [j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in jobs]
    assert values == sorted(values)  # Descending by objective: best first, the smallest loss for Minimize
    best = described["BestTrainingJob"]
    assert best["TrainingJobName"] == jobs[0]["TrainingJobName"] and best["ObjectiveStatus"] == "Succeeded"
    tuned = best["TunedHyperParameters"]
    assert 0 <= float(tuned["x"]) <= 6 and 1 <= int(tuned["depth"]) <= 8
    expected = (float(tuned["x"]) - 3) ** 2 + (int(tuned["depth"]) - 4) ** 2
    assert math.isclose(best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], round(expected, 4), abs_tol=1e-3)
    training = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert training["TuningJobArn"] == described["HyperParameterTuningJobArn"]
    assert training["HyperParameters"]["_tuning_objective_metric"] == "loss"
    assert training["HyperParameters"]["x"] == tuned["x"]


def test_grid_search_runs_every_combination_once(sm):
    create(
        sm,
        "grid-tune",
        "Grid",
        {
            "IntegerParameterRanges": [{"Name": "depth", "MinValue": "3", "MaxValue": "5"}],
            "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b"]}],
        },
        max_jobs=None,
        parallel=3,
    )
    described = finished(sm, "grid-tune")
    assert described["HyperParameterTuningJobStatus"] == "Completed", described.get("FailureReason")
    jobs = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="grid-tune", MaxResults=4)
    assert len(jobs["TrainingJobSummaries"]) == 4 and jobs["NextToken"]
    rest = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="grid-tune", NextToken=jobs["NextToken"]
    )
    combos = {
        (j["TunedHyperParameters"]["depth"], j["TunedHyperParameters"]["kind"])
        for j in jobs["TrainingJobSummaries"] + rest["TrainingJobSummaries"]
    }
    assert combos == {(d, k) for d in ("3", "4", "5") for k in ("a", "b")}
    assert described["BestTrainingJob"]["TunedHyperParameters"] == {"depth": "4", "kind": "a"}


def test_bayesian_search_learns_and_a_stop_stops_its_training_jobs(sm):
    create(
        sm,
        "bayes-tune",
        "Bayesian",
        {
            "ContinuousParameterRanges": [
                {"Name": "x", "MinValue": "0.01", "MaxValue": "10", "ScalingType": "Logarithmic"}
            ]
        },
        max_jobs=3,
        parallel=1,
        RandomSeed=1,
    )
    described = finished(sm, "bayes-tune")
    assert described["HyperParameterTuningJobStatus"] == "Completed", described.get("FailureReason")
    assert described["TrainingJobStatusCounters"]["Completed"] == 3

    create(
        sm,
        "stopped-tune",
        "Bayesian",
        {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "6"}]},
        max_jobs=6,
        parallel=2,
        sleep=60,
    )
    running = wait_until(
        lambda: sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopped-tune")[
            "TrainingJobSummaries"
        ],
        lambda jobs: len(jobs) == 2,
        timeout=30,
    )
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopped-tune")
    assert sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopped-tune")[
        "HyperParameterTuningJobStatus"
    ] in ("Stopping", "Stopped")
    described = finished(sm, "stopped-tune")
    assert described["HyperParameterTuningJobStatus"] == "Stopped"
    assert described["TrainingJobStatusCounters"] == {
        "Completed": 0,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 2,
    }
    for job in running:  # its training jobs were stopped with it
        assert sm.describe_training_job(TrainingJobName=job["TrainingJobName"])["TrainingJobStatus"] == "Stopped"
    listed = sm.list_hyper_parameter_tuning_jobs(SortBy="Name", NameContains="tune")["HyperParameterTuningJobSummaries"]
    assert [j["HyperParameterTuningJobName"] for j in listed] == ["bayes-tune", "stopped-tune"]
    assert listed[1]["Strategy"] == "Bayesian" and listed[1]["HyperParameterTuningJobStatus"] == "Stopped"


def test_requests_local_aws_or_aws_refuse(sm):
    def refused(strategy, ranges, **config):
        return error_of(lambda: create(sm, "refused", strategy, ranges, **config))

    assert refused("Hyperband", {"IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "3"}]})[
        1
    ].startswith("local_aws does not run the Hyperband strategy")
    assert refused("Grid", {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]})[
        1
    ].startswith("The Grid strategy does not support ContinuousParameterRanges")
    assert refused(
        "Random",
        {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}]},
    ) == ("ValidationException", "Logarithmic scaling of hyperparameter x needs MinValue greater than 0.")
    code, message = error_of(
        lambda: sm.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="refused",
            TrainingJobDefinition=definition(),
            HyperParameterTuningJobConfig={
                "Strategy": "Random",
                "ResourceLimits": {"MaxParallelTrainingJobs": 1, "MaxNumberOfTrainingJobs": 1},
                "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "rmse"},
                "ParameterRanges": {"IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "3"}]},
            },
        )
    )
    assert (code, message) == (
        "ValidationException",
        "The objective metric rmse is not one of the MetricDefinitions "
        "of the training job definition (loss): define a regex for it.",
    )
    assert error_of(lambda: sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="nope")) == (
        "ResourceNotFound",
        "Amazon SageMaker can't find a tuning job with name nope",
    )
