"""SageMaker models (moto's records) answered in AWS's shape: what the SDK v3 parses into pydantic."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from support import error_of

ROLE = "arn:aws:iam::123456789012:role/ModelRole"
BUCKET = "sagemaker-us-east-1-123456789012"


def test_describe_model_leaves_out_what_was_not_set(aws):
    sm = aws.client("sagemaker")
    sm.create_model(
        ModelName="plain",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://bucket/model.tar.gz"},
    )
    described = sm.describe_model(ModelName="plain")
    assert "VpcConfig" not in described and "Containers" not in described
    assert described["PrimaryContainer"] == {"Image": "img", "ModelDataUrl": "s3://bucket/model.tar.gz"}
    assert described["ModelArn"].endswith(":model/plain") and described["ExecutionRoleArn"] == ROLE


def test_describe_model_keeps_what_was_set(aws):
    sm = aws.client("sagemaker")
    vpc = {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}
    sm.create_model(
        ModelName="pipeline-model",
        ExecutionRoleArn=ROLE,
        VpcConfig=vpc,
        Containers=[{"Image": "first"}, {"Image": "second"}],
    )
    described = sm.describe_model(ModelName="pipeline-model")
    assert described["VpcConfig"] == vpc
    assert [c["Image"] for c in described["Containers"]] == ["first", "second"]


def test_describe_model_of_a_missing_model_is_a_validation_error(aws):
    code, message = error_of(lambda: aws.client("sagemaker").describe_model(ModelName="nothing-here"))
    assert code == "ValidationException"
    assert message == 'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/nothing-here".'


@pytest.fixture()
def sklearn_artifact(aws) -> str:
    """A trained scikit-learn model packed as a training job packs it, in the SDK's default bucket, and the
    role the SDK checks (it must exist, trust SageMaker and allow serving)."""
    import joblib
    import numpy as np
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(np.array([[1.0], [2.0], [3.0]]), np.array([2.0, 4.0, 6.0]))
    pickled, packed = io.BytesIO(), io.BytesIO()
    joblib.dump(model, pickled)
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(pickled.getvalue())
        tar.addfile(info, io.BytesIO(pickled.getvalue()))
    iam = aws.client("iam")
    iam.create_role(
        RoleName="ModelRole",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}
                ],
            }
        ),
    )
    iam.attach_role_policy(RoleName="ModelRole", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="abalone/model.tar.gz", Body=packed.getvalue())
    return f"s3://{BUCKET}/abalone/model.tar.gz"


def test_model_builder_builds_a_scikit_learn_model_and_model_get_parses_it(aws, sklearn_artifact):
    """SDK v3: ModelBuilder.build() creates the model and reads it back with Model.get (pydantic)."""
    from sagemaker.core import image_uris
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.resources import Model
    from sagemaker.serve.model_builder import ModelBuilder

    image = image_uris.retrieve(framework="sklearn", region="us-east-1", version="1.2-1", instance_type="ml.m5.large")
    session = Session(boto_session=aws, default_bucket=BUCKET)
    builder = ModelBuilder(
        image_uri=image,
        s3_model_data_url=sklearn_artifact,
        role_arn=ROLE,
        sagemaker_session=session,
        instance_type="ml.m5.large",
    )
    built = builder.build(model_name="abalone-sklearn")

    assert built.model_name == "abalone-sklearn"
    assert built.primary_container.image == image
    assert built.primary_container.model_data_url == sklearn_artifact
    fetched = Model.get("abalone-sklearn", session=aws, region="us-east-1")
    assert fetched.model_arn == built.model_arn and fetched.execution_role_arn == ROLE
    assert [m.model_name for m in Model.get_all(session=aws, region="us-east-1")] == ["abalone-sklearn"]
