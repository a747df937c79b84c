"""SageMaker Pipelines API through boto3: definitions, validation, executions of in-process steps.

Steps that need no job (Condition, Fail, RegisterModel, Model) run here; processing and training
steps are in test_pipelines_execution.py.
"""

from __future__ import annotations

import datetime as dt
import json

import boto3
from support import error_of
from support.iam import create_role
from support.pipelines import ROLE, condition, create, definition, fail, register, run, start, steps_of, wait

# --- pipelines -------------------------------------------------------------------------------------


def test_create_describe_update_list_delete(aws):
    sm = aws.client("sagemaker")
    first = definition([fail("Stop", "no")])
    arn = create(
        sm,
        "My-Pipeline",
        first,
        PipelineDescription="demo",
        ParallelismConfiguration={"MaxParallelExecutionSteps": 2},
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:pipeline/my-pipeline"
    described = sm.describe_pipeline(PipelineName="My-Pipeline")
    assert described["PipelineName"] == "My-Pipeline" and described["PipelineDefinition"] == first
    assert described["PipelineStatus"] == "Active"
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]

    second = definition([fail("Stop", "again")])
    updated = sm.update_pipeline(PipelineName="My-Pipeline", PipelineDefinition=second, PipelineDescription="v2")
    assert updated["PipelineVersionId"] == 2
    assert sm.describe_pipeline(PipelineName=arn)["PipelineDefinition"] == second
    assert sm.describe_pipeline(PipelineName="My-Pipeline", PipelineVersionId=1)["PipelineDefinition"] == first
    first_run = sm.start_pipeline_execution(PipelineName="My-Pipeline", PipelineVersionId=1)["PipelineExecutionArn"]
    assert sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=first_run)["PipelineDefinition"] == first
    versions = sm.list_pipeline_versions(PipelineName="My-Pipeline")["PipelineVersionSummaries"]
    assert [v["PipelineVersionId"] for v in versions] == [2, 1]
    assert versions[1]["LastExecutionPipelineExecutionArn"] == first_run
    assert "LastExecutionPipelineExecutionArn" not in versions[0]
    wait(sm, first_run)

    create(sm, "other", first)
    names = [p["PipelineName"] for p in sm.list_pipelines(SortBy="Name", SortOrder="Ascending")["PipelineSummaries"]]
    assert names == ["My-Pipeline", "other"]
    assert [p["PipelineName"] for p in sm.list_pipelines(PipelineNamePrefix="oth")["PipelineSummaries"]] == ["other"]
    paged = sm.list_pipelines(MaxResults=1)
    assert len(paged["PipelineSummaries"]) == 1 and paged["NextToken"]
    assert len(sm.list_pipelines(MaxResults=1, NextToken=paged["NextToken"])["PipelineSummaries"]) == 1
    code, message = error_of(lambda: sm.list_pipelines(NextToken="not-a-token"))
    assert code == "ValidationException" and "Invalid NextToken" in message

    assert sm.delete_pipeline(PipelineName="My-Pipeline")["PipelineArn"] == arn
    code, message = error_of(lambda: sm.describe_pipeline(PipelineName="My-Pipeline"))
    assert code == "ResourceNotFound" and arn in message


def test_duplicate_name_is_rejected_as_aws_does_so_sdk_upsert_updates(aws):
    sm = aws.client("sagemaker")
    create(sm, "dup", definition([fail("F", "x")]))
    code, message = error_of(lambda: create(sm, "dup", definition([fail("F", "x")])))
    assert code == "ValidationException"
    assert "Pipeline names must be unique within an AWS account and region" in message and "(dup)" in message


def test_definition_from_s3(aws):
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    s3.create_bucket(Bucket="defs")
    text = definition([fail("F", "from s3")])
    s3.put_object(Bucket="defs", Key="p/definition.json", Body=text.encode())
    sm.create_pipeline(
        PipelineName="from-s3",
        RoleArn=ROLE,
        PipelineDefinitionS3Location={"Bucket": "defs", "ObjectKey": "p/definition.json"},
    )
    assert sm.describe_pipeline(PipelineName="from-s3")["PipelineDefinition"] == text
    code, message = error_of(
        lambda: sm.create_pipeline(
            PipelineName="missing",
            RoleArn=ROLE,
            PipelineDefinitionS3Location={"Bucket": "defs", "ObjectKey": "nope.json"},
        )
    )
    assert code == "ValidationException" and "s3://defs/nope.json" in message
    code, _ = error_of(lambda: sm.create_pipeline(PipelineName="neither", RoleArn=ROLE))
    assert code == "ValidationException"


def test_a_definition_in_s3_is_read_as_the_caller(aws):
    """SageMaker reads PipelineDefinitionS3Location on the caller's request, with the caller's permissions: a
    caller who may not read the object cannot create a pipeline from it."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="defs")
    text = definition([fail("F", "from s3")])
    for key in ("readable/definition.json", "private/definition.json"):
        s3.put_object(Bucket="defs", Key=key, Body=text.encode())
    account_root = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sts:AssumeRole",
    }
    author = create_role(aws, "PipelineAuthor", [], {"Version": "2012-10-17", "Statement": [account_root]})
    allowed = [
        {"Effect": "Allow", "Action": ["sagemaker:*", "iam:PassRole"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::defs/readable/*"},
    ]
    aws.client("iam").put_role_policy(
        RoleName="PipelineAuthor",
        PolicyName="author",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": allowed}),
    )
    credentials = aws.client("sts").assume_role(RoleArn=author, RoleSessionName="author")["Credentials"]
    sm = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    ).client("sagemaker")

    def create_from(key: str) -> dict:
        return sm.create_pipeline(
            PipelineName=key.split("/")[0],
            RoleArn=ROLE,
            PipelineDefinitionS3Location={"Bucket": "defs", "ObjectKey": key},
        )

    code, message = error_of(lambda: create_from("private/definition.json"))
    assert code == "ValidationException" and "s3://defs/private/definition.json" in message
    assert "AccessDenied" in message and "s3:GetObject" in message
    assert create_from("readable/definition.json")["PipelineArn"].endswith(":pipeline/readable")
    assert sm.describe_pipeline(PipelineName="readable")["PipelineDefinition"] == text


PROCESSING_ARGS = {
    "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}},
    "AppSpecification": {"ImageUri": "python", "ContainerEntrypoint": ["python3", "-c", "print(1)"]},
    "RoleArn": ROLE,
    "ProcessingOutputConfig": {
        "Outputs": [
            {
                "OutputName": "report",
                "S3Output": {
                    "S3Uri": "s3://b/out",
                    "LocalPath": "/opt/ml/processing/report",
                    "S3UploadMode": "EndOfJob",
                },
            }
        ]
    },
}


INVALID = [
    ("not json", None, "Unable to parse pipeline definition"),
    ([fail("Same", "a"), fail("Same", "b")], None, "'Same' appears more than once"),
    ([condition("C", [], if_steps=[fail("Same", "a")]), fail("Same", "b")], None, "'Same' appears more than once"),
    ([fail("F", {"Get": "Parameters.Missing"})], None, "parameter 'Missing' is not declared"),
    ([fail("F", "x", DependsOn=["Ghost"])], None, "step 'Ghost', which is not defined"),
    ([fail("F", {"Get": "Steps.Ghost.ModelPackageArn"})], None, "step 'Ghost' is not defined"),
    (
        [
            {"Name": "P", "Type": "Processing", "Arguments": PROCESSING_ARGS},
            fail("F", {"Get": "Steps.P.ProcessingOutputConfig.Outputz['report'].S3Output.S3Uri"}),
        ],
        None,
        "ProcessingOutputConfig has no member 'Outputz'",
    ),
    (
        [
            {"Name": "P", "Type": "Processing", "Arguments": PROCESSING_ARGS},
            condition(
                "C",
                [
                    {
                        "Type": "Equals",
                        "LeftValue": 1,
                        "RightValue": {
                            "Std:JsonGet": {"PropertyFile": {"Get": "Steps.P.PropertyFiles.Nope"}, "Path": "a"}
                        },
                    }
                ],
            ),
        ],
        None,
        "declares no property file 'Nope'",
    ),
    (
        [
            {
                "Name": "P",
                "Type": "Processing",
                "Arguments": PROCESSING_ARGS,
                "PropertyFiles": [{"PropertyFileName": "R", "OutputName": "absent", "FilePath": "r.json"}],
            }
        ],
        None,
        "names output 'absent'",
    ),
    ([fail("A", "x", DependsOn=["B"]), fail("B", "y", DependsOn=["A"])], None, "cycle"),
    ([fail("F", {"Get": "Execution.Nope"})], None, "unknown execution variable"),
    ([{"Name": "W", "Type": "Wizardry", "Arguments": {}}], None, "unknown Type 'Wizardry'"),
    ([fail("F", "x")], [{"Name": "N", "Type": "Integer", "DefaultValue": "ten"}], "is not of type Integer"),
    (
        [
            {
                "Name": "P",
                "Type": "Processing",
                "Arguments": PROCESSING_ARGS,
                "CacheConfig": {"Enabled": True, "ExpireAfter": "soon"},
            }
        ],
        None,
        "ISO 8601 duration",
    ),
    ([register("R", CacheConfig={"Enabled": True})], None, "of type RegisterModel cannot have a CacheConfig"),
]


def test_invalid_definitions_are_rejected_naming_the_problem(aws):
    sm = aws.client("sagemaker")
    create(sm, "good", definition([fail("F", "x")]))
    for steps, parameters, expected in INVALID:
        text = steps if isinstance(steps, str) else definition(steps, parameters)
        for call in (
            lambda: create(sm, "bad", text),
            lambda: sm.update_pipeline(PipelineName="good", PipelineDefinition=text),
        ):
            code, message = error_of(call)
            assert code == "ValidationException" and expected in message, message
    assert [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]] == ["good"]
    assert sm.describe_pipeline(PipelineName="good")["PipelineDefinition"] == definition([fail("F", "x")])


# --- executions of in-process steps ------------------------------------------------------------------

PARAMETERS = [
    {"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5},
    {"Name": "Count", "Type": "Integer", "DefaultValue": 3},
    {"Name": "Flag", "Type": "Boolean", "DefaultValue": False},
    {"Name": "Mode", "Type": "String", "DefaultValue": "fast", "EnumValues": ["fast", "slow"]},
    {"Name": "Group", "Type": "String"},
]


def test_start_checks_parameters(aws):
    sm = aws.client("sagemaker")
    create(sm, "params", definition([fail("F", {"Get": "Parameters.Group"})], PARAMETERS))
    bad = [
        ([{"Name": "Group", "Value": "g"}, {"Name": "Nope", "Value": "1"}], "'Nope' is not defined"),
        ([{"Name": "Group", "Value": "g"}, {"Name": "Count", "Value": "three"}], "not a valid Integer"),
        ([{"Name": "Group", "Value": "g"}, {"Name": "Threshold", "Value": "high"}], "not a valid Float"),
        ([{"Name": "Group", "Value": "g"}, {"Name": "Flag", "Value": "maybe"}], "not a valid Boolean"),
        ([{"Name": "Group", "Value": "g"}, {"Name": "Mode", "Value": "medium"}], "not one of ['fast', 'slow']"),
        ([], "'Group' has no default value"),
    ]
    for parameters, expected in bad:
        code, message = error_of(
            lambda: sm.start_pipeline_execution(PipelineName="params", PipelineParameters=parameters)
        )
        assert code == "ValidationException" and expected in message, message
    assert sm.list_pipeline_executions(PipelineName="params")["PipelineExecutionSummaries"] == []

    arn = start(
        sm,
        "params",
        [{"Name": "Group", "Value": "g"}, {"Name": "Count", "Value": "7"}, {"Name": "Flag", "Value": "True"}],
    )
    listed = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    assert listed == [
        {"Name": "Threshold", "Value": "0.5"},
        {"Name": "Count", "Value": "7"},
        {"Name": "Flag", "Value": "True"},
        {"Name": "Mode", "Value": "fast"},
        {"Name": "Group", "Value": "g"},
    ]
    paged = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn, MaxResults=2)
    rest = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn, NextToken=paged["NextToken"])
    assert paged["PipelineParameters"] + rest["PipelineParameters"] == listed and "NextToken" not in rest


def test_condition_branches_and_fail_step(aws):
    """Every condition type the SDK emits; the taken branch runs, the other never starts; Fail fails."""
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="models")
    conditions = [
        {"Type": "GreaterThanOrEqualTo", "LeftValue": {"Get": "Parameters.Count"}, "RightValue": 3},
        {"Type": "GreaterThan", "LeftValue": 0.75, "RightValue": {"Get": "Parameters.Threshold"}},
        {"Type": "LessThan", "LeftValue": {"Get": "Parameters.Threshold"}, "RightValue": 1},
        {"Type": "LessThanOrEqualTo", "LeftValue": 3, "RightValue": {"Get": "Parameters.Count"}},
        {"Type": "Equals", "LeftValue": {"Get": "Parameters.Mode"}, "RightValue": "fast"},
        {"Type": "In", "QueryValue": {"Get": "Parameters.Group"}, "Values": ["a", "g", {"Get": "Parameters.Mode"}]},
        {"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": {"Get": "Parameters.Flag"}, "RightValue": True}},
        {
            "Type": "Or",
            "Conditions": [
                {"Type": "Equals", "LeftValue": 1, "RightValue": 2},
                {"Type": "Equals", "LeftValue": {"Get": "Execution.PipelineName"}, "RightValue": "branches"},
            ],
        },
    ]
    message = {
        "Std:Join": {
            "On": " ",
            "Values": ["count", {"Get": "Parameters.Count"}, "in", {"Get": "Execution.PipelineExecutionId"}],
        }
    }
    text = definition(
        [
            condition(
                "Check",
                conditions,
                if_steps=[register("Register")],
                else_steps=[fail("TooLow", message)],
                DisplayName="Quality gate",
                Description="gate",
            )
        ],
        PARAMETERS,
    )
    arn, described, steps = run(sm, "branches", text, [{"Name": "Group", "Value": "g"}])
    assert described["PipelineExecutionStatus"] == "Succeeded" and "FailureReason" not in described
    assert set(steps) == {"Check", "Register"}
    assert steps["Check"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert steps["Check"]["StepDisplayName"] == "Quality gate" and steps["Check"]["StepDescription"] == "gate"
    package_arn = steps["Register"]["Metadata"]["RegisterModel"]["Arn"]
    package = sm.describe_model_package(ModelPackageName=package_arn)
    assert package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == "s3://bucket/evaluation.json"
    assert all(
        s["StepStatus"] == "Succeeded" and s["AttemptCount"] == 1 and s["EndTime"] >= s["StartTime"]
        for s in steps.values()
    )

    second = start(sm, "branches", [{"Name": "Group", "Value": "g"}, {"Name": "Count", "Value": "2"}])
    described = wait(sm, second)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "Step failure: One or multiple steps failed."
    steps = steps_of(sm, second)
    assert set(steps) == {"Check", "TooLow"}
    assert steps["Check"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    expected = f"count 2 in {second.rsplit('/', 1)[1]}"
    assert steps["TooLow"]["StepStatus"] == "Failed" and steps["TooLow"]["FailureReason"] == expected
    assert steps["TooLow"]["Metadata"] == {"Fail": {"ErrorMessage": expected}}
    summaries = sm.list_pipeline_executions(PipelineName="branches")["PipelineExecutionSummaries"]
    assert [s["PipelineExecutionArn"] for s in summaries] == [second, arn]
    assert summaries[0]["PipelineExecutionFailureReason"] == "Step failure: One or multiple steps failed."


def test_downstream_steps_never_start_after_a_failure(aws):
    sm = aws.client("sagemaker")
    text = definition(
        [
            register("Register", group="no-such-group"),
            fail("After", {"Get": "Steps.Register.ModelPackageArn"}),
            fail("AlsoAfter", "x", DependsOn=["Register"]),
        ]
    )
    _, described, steps = run(sm, "failing", text)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert list(steps) == ["Register"]
    assert steps["Register"]["StepStatus"] == "Failed"
    assert "no-such-group" in steps["Register"]["FailureReason"]


def test_data_references_order_steps_and_properties_resolve(aws):
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="models")
    model = {
        "Name": "Model",
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {
                "Image": "img",
                "ModelDataUrl": {"Get": "Steps.Register.InferenceSpecification.Containers[0].ModelDataUrl"},
            },
        },
    }
    report = fail(
        "Report",
        {
            "Std:Join": {
                "On": "|",
                "Values": [
                    {"Get": "Steps.Register.ModelPackageArn"},
                    {"Get": "Steps.Model.PrimaryContainer.ModelDataUrl"},
                    {"Get": "Steps.Register.ModelApprovalStatus"},
                ],
            }
        },
    )
    _, described, steps = run(sm, "refs", definition([report, model, register("Register")]))
    assert described["PipelineExecutionStatus"] == "Failed"
    starts = {name: s["StartTime"] for name, s in steps.items()}
    assert starts["Register"] <= starts["Model"] <= starts["Report"]
    package_arn = steps["Register"]["Metadata"]["RegisterModel"]["Arn"]
    model_arn = steps["Model"]["Metadata"]["Model"]["Arn"]
    described_model = sm.describe_model(ModelName=model_arn.rsplit("/", 1)[1])
    assert described_model["PrimaryContainer"]["ModelDataUrl"] == "s3://bucket/model.tar.gz"
    assert steps["Report"]["FailureReason"] == f"{package_arn}|s3://bucket/model.tar.gz|PendingManualApproval"
    arn = described["PipelineExecutionArn"]
    listed = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [s["StepName"] for s in listed] == ["Report", "Model", "Register"]  # newest first, as AWS lists them
    ascending = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    assert [s["StepName"] for s in ascending["PipelineExecutionSteps"]] == ["Register", "Model", "Report"]


def test_unsupported_step_type_fails_its_step(aws):
    sm = aws.client("sagemaker")
    lambda_step = {
        "Name": "L",
        "Type": "Lambda",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "Arguments": {},
    }
    _, described, steps = run(sm, "lambda", definition([lambda_step]))
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "Step type Lambda is not supported by local_aws" in steps["L"]["FailureReason"]


def test_execution_records_and_updates(aws):
    sm = aws.client("sagemaker")
    text = definition(
        [fail("F", "done")],
        PipelineExperimentConfig={
            "ExperimentName": {"Get": "Execution.PipelineName"},
            "TrialName": {"Get": "Execution.PipelineExecutionId"},
        },
    )
    create(sm, "records", text, ParallelismConfiguration={"MaxParallelExecutionSteps": 4})
    arn = sm.start_pipeline_execution(
        PipelineName="records",
        PipelineExecutionDisplayName="first-run",
        PipelineExecutionDescription="d",
        ClientRequestToken="t" * 32,
    )["PipelineExecutionArn"]
    again = sm.start_pipeline_execution(PipelineName="records", ClientRequestToken="t" * 32)
    assert again["PipelineExecutionArn"] == arn
    described = wait(sm, arn)
    assert described["PipelineExecutionDisplayName"] == "first-run"
    assert described["PipelineExecutionDescription"] == "d"
    assert described["PipelineExperimentConfig"] == {"ExperimentName": "records", "TrialName": arn.rsplit("/", 1)[1]}
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 4}
    assert sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)["PipelineDefinition"] == text
    sm.update_pipeline_execution(
        PipelineExecutionArn=arn, PipelineExecutionDescription="renamed", PipelineExecutionDisplayName="second-name"
    )
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert (described["PipelineExecutionDescription"], described["PipelineExecutionDisplayName"]) == (
        "renamed",
        "second-name",
    )
    default_named = sm.start_pipeline_execution(PipelineName="records")["PipelineExecutionArn"]
    described = sm.describe_pipeline_execution(PipelineExecutionArn=default_named)
    assert described["PipelineExecutionDisplayName"].startswith("execution-")
    wait(sm, default_named)
    oldest_first = sm.list_pipeline_executions(PipelineName="records", SortOrder="Ascending")[
        "PipelineExecutionSummaries"
    ]
    assert [s["PipelineExecutionArn"] for s in oldest_first] == [arn, default_named]
    between = sm.list_pipeline_executions(
        PipelineName="records",
        CreatedAfter=oldest_first[0]["StartTime"] + dt.timedelta(milliseconds=1),
        CreatedBefore=oldest_first[1]["StartTime"] + dt.timedelta(seconds=1),
    )
    assert [s["PipelineExecutionArn"] for s in between["PipelineExecutionSummaries"]] == [default_named]
    paged = sm.list_pipeline_executions(PipelineName="records", MaxResults=1)
    assert [s["PipelineExecutionArn"] for s in paged["PipelineExecutionSummaries"]] == [default_named]
    rest = sm.list_pipeline_executions(PipelineName="records", MaxResults=1, NextToken=paged["NextToken"])
    assert [s["PipelineExecutionArn"] for s in rest["PipelineExecutionSummaries"]] == [arn] and "NextToken" not in rest
    code, _ = error_of(lambda: sm.describe_pipeline_execution(PipelineExecutionArn=arn[:-3] + "zzz"))
    assert code == "ResourceNotFound"
    code, message = error_of(lambda: sm.stop_pipeline_execution(PipelineExecutionArn=arn))
    assert code == "ConflictException" and "Failed" in message


def test_run_condition_steps_run_on_failure_and_complete_with_failures(aws):
    """A DependsOn {"Step", "Trigger": "Failed"} step runs because its upstream failed (StepDependency)."""
    sm = aws.client("sagemaker")
    notify = condition(
        "Notify",
        [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
        DependsOn=[{"Step": "Register", "Trigger": "Failed"}],
    )
    on_success = condition("OnSuccess", [], DependsOn=["Register"])
    _, described, steps = run(
        sm, "run-conditions", definition([register("Register", group="absent"), notify, on_success])
    )
    assert described["PipelineExecutionStatus"] == "CompletedWithFailures"
    assert set(steps) == {"Register", "Notify"}
    assert steps["Register"]["StepStatus"] == "Failed" and steps["Notify"]["StepStatus"] == "Succeeded"
