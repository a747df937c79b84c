"""The Model Registry's answers (moto's records, completed by local_aws) parse into SDK v3's pydantic shapes."""

from __future__ import annotations

SPEC = {
    "Containers": [
        {
            "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            "ModelDataUrl": "s3://bucket/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
METRICS = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://bucket/evaluation.json"}}}


def test_groups_and_versions_parse_into_the_sdk_resources(aws):
    from sagemaker.core.resources import ModelPackage, ModelPackageGroup

    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="abalone-models", ModelPackageGroupDescription="rings")
    arn = sm.create_model_package(
        ModelPackageGroupName="abalone-models",
        InferenceSpecification=SPEC,
        ModelMetrics=METRICS,
        CustomerMetadataProperties={"data": "v1"},
        ModelApprovalStatus="PendingManualApproval",
    )["ModelPackageArn"]
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="good")
    sm.create_model_package(ModelPackageName="standalone", InferenceSpecification=SPEC)

    group = ModelPackageGroup.get("abalone-models", session=aws, region="us-east-1")
    assert group.model_package_group_description == "rings"
    version = ModelPackage.get(arn, session=aws, region="us-east-1")
    assert (version.model_package_version, version.model_approval_status) == (1, "Approved")
    assert version.model_metrics.model_quality.statistics.s3_uri == "s3://bucket/evaluation.json"
    assert version.inference_specification.containers[0].model_data_url == "s3://bucket/model.tar.gz"
    assert ModelPackage.get("standalone", session=aws, region="us-east-1").model_package_name == "standalone"
    listed = ModelPackage.get_all(model_package_group_name="abalone-models", session=aws, region="us-east-1")
    assert [p.model_package_arn for p in listed] == [arn]
