"""The SageMaker Experiments entities pipeline executions create: an experiment (the PipelineExperimentConfig's
ExperimentName, by default the pipeline's name) and in it a trial per execution (by default its id)."""

from __future__ import annotations

from support import error_of
from support.pipelines import create, definition, fail, start, wait

DEFAULT_EXPERIMENT = {
    "ExperimentName": {"Get": "Execution.PipelineName"},
    "TrialName": {"Get": "Execution.PipelineExecutionId"},
}  # what the SDK writes by default


def trials_of(sm, experiment: str) -> list[str]:
    return sorted(t["TrialName"] for t in sm.list_trials(ExperimentName=experiment)["TrialSummaries"])


def test_each_execution_adds_its_trial_to_the_pipelines_experiment_which_outlives_the_pipeline(aws):
    sm = aws.client("sagemaker")
    create(sm, "Scored-Pipeline", definition([fail("Stop", "no")], PipelineExperimentConfig=DEFAULT_EXPERIMENT))
    first, second = start(sm, "Scored-Pipeline"), start(sm, "Scored-Pipeline")
    described = sm.describe_pipeline_execution(PipelineExecutionArn=first)
    assert described["PipelineExperimentConfig"] == {
        "ExperimentName": "Scored-Pipeline",
        "TrialName": first.rsplit("/", 1)[1],
    }
    experiment = sm.describe_experiment(ExperimentName="Scored-Pipeline")
    assert experiment["ExperimentArn"].endswith(":experiment/Scored-Pipeline")
    assert trials_of(sm, "Scored-Pipeline") == sorted(arn.rsplit("/", 1)[1] for arn in (first, second))
    trial = sm.describe_trial(TrialName=second.rsplit("/", 1)[1])
    assert trial["ExperimentName"] == "Scored-Pipeline"

    for arn in (first, second):
        wait(sm, arn)
    sm.delete_pipeline(PipelineName="Scored-Pipeline")  # as on AWS, its experiment entities stay
    assert len(trials_of(sm, "Scored-Pipeline")) == 2


def test_a_named_experiment_is_shared_and_no_config_creates_none(aws):
    sm = aws.client("sagemaker")
    shared = {"ExperimentName": "shared", "TrialName": {"Get": "Execution.PipelineExecutionId"}}
    create(sm, "one", definition([fail("Stop", "no")], PipelineExperimentConfig=shared))
    create(sm, "two", definition([fail("Stop", "no")], PipelineExperimentConfig=shared))
    create(sm, "untracked", definition([fail("Stop", "no")]))
    runs = [start(sm, name) for name in ("one", "two", "untracked")]
    assert trials_of(sm, "shared") == sorted(arn.rsplit("/", 1)[1] for arn in runs[:2])
    assert [e["ExperimentName"] for e in sm.list_experiments()["ExperimentSummaries"]] == ["shared"]
    for arn in runs:
        wait(sm, arn)


def test_describe_experiment_of_a_missing_experiment_is_resource_not_found(aws):
    code, message = error_of(lambda: aws.client("sagemaker").describe_experiment(ExperimentName="nothing-here"))
    assert code == "ResourceNotFound" and "experiment/nothing-here" in message
