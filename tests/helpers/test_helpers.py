"""The notebooks' helpers: names, session setup, tables of real local_aws responses, figures."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from matplotlib.figure import Figure
from support import wait_until

import helpers
from helpers import plots, views
from helpers.names import Names, check_project
from helpers.paths import NOTEBOOKS, step_script
from helpers.session import default_bucket_name
from helpers.tutorial_runner import TUTORIAL, literal, split_parameters

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
EVALUATION = {
    "regression_metrics": {
        "mse": {"value": 4.5, "standard_deviation": 0.3},
        "rmse": {"value": 2.12, "standard_deviation": 0.07},
        "r2": {"value": 0.55, "standard_deviation": 0.03},
    }
}


MODEL_OUTPUT = "Steps.Train.ProcessingOutputConfig.Outputs['model'].S3Output.S3Uri"


@pytest.fixture()
def environment():
    """configure() writes os.environ, as it must for kernels and jobs: undo it after the test."""
    saved = dict(os.environ)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


# -- names ----------------------------------------------------------------------------------------


def test_every_name_derives_from_the_project():
    names = Names("demo-2")
    assert (names.feature_group, names.model_package_group, names.pipeline) == (
        "demo-2-features",
        "demo-2-models",
        "demo-2-pipeline",
    )
    assert names.job("train") == "demo-2-train"
    assert names.key("data", "/abalone.csv") == "demo-2/data/abalone.csv"
    assert names.s3_uri("bucket", "jobs", "x") == "s3://bucket/demo-2/jobs/x"


@pytest.mark.parametrize(
    "project, words",
    [
        ("Abalone", ["lower-case"]),
        ("a--b", ["single hyphens"]),
        ("-a", ["starting"]),
        ("", ["project=''"]),
        ("a" * 25, ["25 characters", "at most 24"]),
    ],
)
def test_a_bad_project_name_is_refused_saying_why(project, words):
    with pytest.raises(ValueError) as error:
        check_project(project)
    for word in words:
        assert word in str(error.value)


# -- configure ------------------------------------------------------------------------------------


def test_configure_local_points_boto3_and_the_sdk_at_the_running_server(server, environment):
    setup = helpers.configure(backend="local", project="unit")
    assert setup.endpoint_url == server.endpoint == environment["AWS_ENDPOINT_URL"]
    assert setup.account == "123456789012"
    assert setup.role_arn == "arn:aws:iam::123456789012:role/unit-sagemaker-execution"
    assert setup.bucket == setup.sagemaker_session._default_bucket_name_override == "sagemaker-us-east-1-123456789012"
    assert setup.sagemaker_session.default_bucket_prefix == "unit"
    assert setup.boto_session.client("sts").get_caller_identity()["Account"] == "123456789012"
    assert setup.s3_uri("data") == "s3://sagemaker-us-east-1-123456789012/unit/data"
    assert "local_aws at http://127.0.0.1:" in setup.describe()


def test_configure_aws_with_a_role_needs_no_call_and_forgets_the_local_endpoint(environment):
    environment.update(
        {
            "AWS_ACCESS_KEY_ID": "AKIAABCDEFGHIJKLMNOP",
            "AWS_SECRET_ACCESS_KEY": "s" * 40,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        }
    )  # as a local configure() left them
    setup = helpers.configure(
        backend="aws", region="eu-west-1", project="demo", role_arn="arn:aws:iam::111122223333:role/service-role/Studio"
    )
    assert "AWS_ENDPOINT_URL" not in environment and environment.get("AWS_ACCESS_KEY_ID") != "AKIAABCDEFGHIJKLMNOP"
    assert (setup.account, setup.region, setup.endpoint_url) == ("111122223333", "eu-west-1", None)
    assert setup.bucket == default_bucket_name("eu-west-1", "111122223333") == "sagemaker-eu-west-1-111122223333"
    assert setup.boto_session.region_name == "eu-west-1"


def test_configure_refuses_an_unknown_backend_or_project():
    with pytest.raises(ValueError, match="'local'.*'aws'"):
        helpers.configure(backend="azure")
    with pytest.raises(ValueError, match="Demo"):
        helpers.configure(project="Demo")


def test_step_script_paths_and_a_missing_one():
    assert step_script("train.py").is_file()
    with pytest.raises(FileNotFoundError, match="train.py"):
        step_script("trian.py")


# -- views of real responses ----------------------------------------------------------------------


def test_feature_group_views(aws):
    sm = aws.client("sagemaker")
    aws.client("s3").create_bucket(Bucket="view-bucket")
    sm.create_feature_group(
        FeatureGroupName="view-features",
        RecordIdentifierFeatureName="id",
        EventTimeFeatureName="time",
        FeatureDefinitions=[
            {"FeatureName": "id", "FeatureType": "String"},
            {"FeatureName": "time", "FeatureType": "String"},
            {"FeatureName": "rings", "FeatureType": "Integral"},
        ],
        OnlineStoreConfig={"EnableOnlineStore": True},
        RoleArn=ROLE,
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://view-bucket/offline"}},
    )
    described = wait_until(
        lambda: sm.describe_feature_group(FeatureGroupName="view-features"),
        lambda d: d["FeatureGroupStatus"] != "Creating",
        timeout=60,
    )
    table = views.feature_group(described)["value"]
    assert table["name"] == "view-features" and table["status"] == "Created"
    assert table["online store"] == "enabled" and table["features"] == 3
    assert table["Glue table"].startswith("sagemaker_featurestore.view_features_")
    assert table["offline data"].startswith("s3://view-bucket/offline/123456789012/sagemaker/us-east-1/")
    features = views.feature_definitions(described)
    assert features.to_dict("records") == [
        {"feature": "id", "type": "String", "role": "record identifier"},
        {"feature": "time", "type": "String", "role": "event time"},
        {"feature": "rings", "type": "Integral", "role": ""},
    ]


def test_processing_job_views(aws):
    s3, sm = aws.client("s3"), aws.client("sagemaker")
    s3.create_bucket(Bucket="view-bucket")
    s3.put_object(Bucket="view-bucket", Key="code/hello.py", Body=b"print('hello')\n")
    sm.create_processing_job(
        ProcessingJobName="view-job",
        RoleArn=ROLE,
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}},
        AppSpecification={
            "ImageUri": IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/hello.py"],
            "ContainerArguments": ["--greeting", "hi"],
        },
        ProcessingInputs=[
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": "s3://view-bucket/code/hello.py",
                    "LocalPath": "/opt/ml/processing/input/code",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "report",
                    "S3Output": {
                        "S3Uri": "s3://view-bucket/out",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    )
    job = wait_until(
        lambda: sm.describe_processing_job(ProcessingJobName="view-job"),
        lambda d: d["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped"),
        timeout=60,
    )
    table = views.processing_job(job)["value"]
    assert table["status"] == "Completed", job.get("FailureReason")
    assert table["instances"] == "1 x ml.m5.large" and table["arguments"] == "--greeting hi"
    assert table["entrypoint"] == "python3 /opt/ml/processing/input/code/hello.py"
    assert isinstance(table["seconds"], float)
    channels = views.processing_channels(job)
    assert channels[["direction", "name", "container path"]].values.tolist() == [
        ["input", "code", "/opt/ml/processing/input/code"],
        ["output", "report", "/opt/ml/processing/output"],
    ]


def test_model_versions_view_newest_first_with_metrics(aws):
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="view-models")
    arns = [
        sm.create_model_package(
            ModelPackageGroupName="view-models",
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://b/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        for status in ("PendingManualApproval", "Approved")
    ]
    listed = sm.list_model_packages(ModelPackageGroupName="view-models")["ModelPackageSummaryList"]
    table = views.model_versions(listed, {arns[1]: EVALUATION})
    assert table.index.tolist() == [2, 1]
    assert table.loc[2, "approval"] == "Approved" and table.loc[2, "rmse"] == 2.12 and table.loc[2, "r2"] == 0.55
    assert pd.isna(table.loc[1, "rmse"])
    assert views.model_versions([]).empty
    figure = plots.metric_by_version(table, "rmse")
    assert isinstance(figure, Figure)
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["v2"]


def test_metric_by_version_shows_small_differences_on_an_axis_around_the_values():
    table = pd.DataFrame({"rmse": [2.261, 2.226]}, index=[2, 1])
    ax = plots.metric_by_version(table, "rmse").axes[0]
    low, high = ax.get_ylim()
    assert 2.2 < low < 2.226 and 2.261 < high < 2.3, (low, high)  # not from zero: the two look different
    assert [t.get_text() for t in ax.texts] == ["2.226", "2.261"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["v1", "v2"]


def test_metrics_view():
    table = views.metrics(EVALUATION)
    assert table.loc["rmse", "value"] == 2.12 and table.loc["r2", "standard deviation"] == 0.03


CONDITION_PIPELINE = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5}],
    "Steps": [
        {
            "Name": "Gate",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [
                    {"Type": "GreaterThanOrEqualTo", "LeftValue": 1.0, "RightValue": {"Get": "Parameters.Threshold"}}
                ],
                "IfSteps": [{"Name": "TooGood", "Type": "Fail", "Arguments": {"ErrorMessage": "expected"}}],
                "ElseSteps": [{"Name": "Fine", "Type": "Fail", "Arguments": {"ErrorMessage": "not this one"}}],
            },
        }
    ],
}


def test_execution_views_and_figures_of_a_real_execution(aws):
    sm = aws.client("sagemaker")
    sm.create_pipeline(PipelineName="view-pipeline", RoleArn=ROLE, PipelineDefinition=json.dumps(CONDITION_PIPELINE))
    arn = sm.start_pipeline_execution(
        PipelineName="view-pipeline",
        PipelineExecutionDisplayName="first",
        PipelineParameters=[{"Name": "Threshold", "Value": "0.25"}],
    )["PipelineExecutionArn"]
    wait_until(
        lambda: sm.describe_pipeline_execution(PipelineExecutionArn=arn),
        lambda d: d["PipelineExecutionStatus"] not in ("Executing", "Stopping"),
        timeout=60,
    )
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]

    table = views.execution_steps(steps)
    assert table["step"].tolist() == ["Gate", "TooGood"]
    assert table["status"].tolist() == ["Succeeded", "Failed"]
    assert table.loc[0, "job / outcome"] == "outcome: True"
    assert table.loc[1, "job / outcome"] == "fail: expected"

    executions = views.executions(
        sm.list_pipeline_executions(PipelineName="view-pipeline")["PipelineExecutionSummaries"]
    )
    assert executions.loc[0, ["execution", "status", "display name"]].tolist() == [
        arn.rsplit("/", 1)[-1],
        "Failed",
        "first",
    ]
    parameters = views.parameters(sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn))
    assert parameters.loc["Threshold", "value"] == "0.25" and list(parameters.columns) == ["value"]
    assert views.parameters(CONDITION_PIPELINE["Parameters"]).loc["Threshold", "type"] == "Float"

    statuses = {step["StepName"]: step["StepStatus"] for step in steps}
    dag = plots.pipeline_dag(
        sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)["PipelineDefinition"], statuses
    )
    legend = [text.get_text() for text in dag.axes[0].get_legend().get_texts()]
    assert legend == ["Failed", "Succeeded", "not run"]  # Fine, the branch not taken, stays grey
    timeline = plots.execution_timeline(steps)
    assert [label.get_text() for label in timeline.axes[0].get_yticklabels()] == ["Gate", "TooGood"]


def test_pipeline_graph_knows_every_kind_of_dependency():
    definition = {
        "Steps": [
            {"Name": "Ingest", "Type": "Processing", "Arguments": {}},
            {"Name": "Train", "Type": "Processing", "DependsOn": ["Ingest"], "Arguments": {}},
            {
                "Name": "Gate",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [
                        {"LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Train.PropertyFiles.Report"}}}}
                    ],
                    "IfSteps": [
                        {
                            "Name": "Register",
                            "Type": "Processing",
                            "Arguments": {
                                "AppSpecification": {
                                    "ContainerArguments": [
                                        "--model",
                                        {"Std:Join": {"Values": [{"Get": MODEL_OUTPUT}]}},
                                    ]
                                }
                            },
                        }
                    ],
                    "ElseSteps": [{"Name": "Fail", "Type": "Fail", "Arguments": {}}],
                },
            },
        ]
    }
    graph = plots.pipeline_graph(json.dumps(definition))
    edges = {(a, b): d["kind"] for a, b, d in graph.edges(data=True)}
    assert edges == {
        ("Ingest", "Train"): "depends on",
        ("Train", "Gate"): "data",
        ("Gate", "Register"): "if",
        ("Gate", "Fail"): "else",
        ("Train", "Register"): "data",
    }
    assert graph.nodes["Gate"]["type"] == "Condition"


def test_model_quality_figures():
    predictions = pd.DataFrame({"y_true": [5, 9, 12, 7], "y_pred": [6.0, 8.5, 10.0, 7.2]})
    scatter = plots.predicted_vs_actual(predictions)
    assert isinstance(scatter, Figure) and scatter.axes[0].get_title() == "Predicted vs actual"
    assert len(plots.residuals(predictions).axes) == 2
    bars = plots.feature_importance({"shell_weight": 0.5, "sex_I": 0.1, "height": 0.2})
    assert [label.get_text() for label in bars.axes[0].get_yticklabels()] == ["sex_I", "height", "shell_weight"]


# -- the runner's parameters ------------------------------------------------------------------------


def test_parameters_are_typed_like_papermill_and_go_where_they_are_declared():
    assert (literal("20"), literal("0.5"), literal("True"), literal("None"), literal("demo")) == (
        20,
        0.5,
        True,
        None,
        "demo",
    )
    notebooks = [NOTEBOOKS / f"{name}.ipynb" for name in TUTORIAL]
    shares = split_parameters({"project": "demo", "n_estimators": 20}, notebooks)
    assert shares[NOTEBOOKS / "00_setup.ipynb"] == {"project": "demo"}
    assert shares[NOTEBOOKS / "03_train.ipynb"] == {"project": "demo", "n_estimators": 20}
    with pytest.raises(SystemExit, match="unknown parameter.*colour.*n_estimators"):
        split_parameters({"colour": "blue"}, notebooks)


def test_warnings_name_files_as_a_reader_finds_them_not_by_this_machines_paths():
    from support import REPO

    from helpers.session import short_path_warning

    sdk = short_path_warning("No Wait", UserWarning, "/x/.venv/lib/python3.11/site-packages/sagemaker/core/w.py", 341)
    assert sdk.startswith("sagemaker/core/w.py:341: UserWarning: No Wait")
    assert short_path_warning("m", UserWarning, f"{REPO}/helpers/views.py", 3).startswith("helpers/views.py:3:")


def test_lab_works_on_a_copy_that_keeps_the_learners_edits(tmp_path):
    from helpers import lab

    source, copy = tmp_path / "notebooks", tmp_path / "runs" / "lab"
    source.mkdir()
    for name in ("00_setup.ipynb", "01_check.ipynb"):
        (source / name).write_text(f"original {name}")
    assert lab.working_copy(source, copy) == ["00_setup.ipynb", "01_check.ipynb"]
    (copy / "00_setup.ipynb").write_text("the learner's edits")
    (source / "02_new.ipynb").write_text("original 02")
    assert lab.working_copy(source, copy) == ["02_new.ipynb"]  # added later: copied; edited: kept
    assert (copy / "00_setup.ipynb").read_text() == "the learner's edits"
    command = lab.jupyter_command(["--port=8890", "--no-browser"], copy)
    assert command[1:] == [
        "-m",
        "jupyterlab",
        f"--notebook-dir={copy}",
        "--KernelManager.transport=ipc",
        "--port=8890",
        "--no-browser",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]
