"""The SageMaker Experiments entities pipeline executions create: an experiment (the PipelineExperimentConfig's
ExperimentName, by default the pipeline's name) and in it a trial per execution (by default its id), each
created by SageMaker itself only when missing."""

from __future__ import annotations

from support import error_of
from support.iam import SAGEMAKER_TRUST, create_role
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


def test_sagemaker_creates_them_itself_whatever_the_pipelines_role_may_do(aws):
    """The pipeline's role needs no SageMaker Experiments permission (AWS's IAM requirements for Pipelines list
    none): a role without any policy still gets its execution's experiment and trial."""
    sm = aws.client("sagemaker")
    bare = create_role(aws, "PipelineWithoutPolicies", [], SAGEMAKER_TRUST)
    create(sm, "bare-role", definition([fail("Stop", "no")], PipelineExperimentConfig=DEFAULT_EXPERIMENT))
    sm.update_pipeline(PipelineName="bare-role", RoleArn=bare)
    arn = start(sm, "bare-role")
    assert sm.describe_experiment(ExperimentName="bare-role")["ExperimentName"] == "bare-role"
    assert trials_of(sm, "bare-role") == [arn.rsplit("/", 1)[1]]
    wait(sm, arn)


def test_an_existing_experiment_and_trial_are_kept_as_they_are(aws):
    sm = aws.client("sagemaker")
    sm.create_experiment(ExperimentName="kept-experiment")
    created = sm.describe_experiment(ExperimentName="kept-experiment")["CreationTime"]
    sm.create_trial(TrialName="kept-trial", ExperimentName="kept-experiment")
    sm.create_trial_component(TrialComponentName="earlier-run")
    sm.associate_trial_component(TrialComponentName="earlier-run", TrialName="kept-trial")
    config = {"ExperimentName": "kept-experiment", "TrialName": "kept-trial"}
    create(sm, "reuses", definition([fail("Stop", "no")], PipelineExperimentConfig=config))
    wait(sm, start(sm, "reuses"))
    assert sm.describe_experiment(ExperimentName="kept-experiment")["CreationTime"] == created
    assert trials_of(sm, "kept-experiment") == ["kept-trial"]
    with_run = sm.list_trials(TrialComponentName="earlier-run")["TrialSummaries"]
    assert [trial["TrialName"] for trial in with_run] == ["kept-trial"]  # the trial keeps its runs
