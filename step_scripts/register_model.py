"""Register a trained model as a new version in the SageMaker Model Registry.

The Model Registry keeps models in model package groups: one group per ML problem (here "predict
an abalone's rings"), one numbered model package (version) per registered model. A version
records where the model artifact is (ModelDataUrl), which container serves it (Image), its quality
metrics (ModelMetrics: a pointer to evaluation.json in S3) and an approval status that a reviewer
or CI flips from PendingManualApproval to Approved before deployment.

The script creates the group if it is missing, registers model.tar.gz as its next version,
prints the version's ARN and writes <output-dir>/registration.json.

    python register_model.py --model-package-group-name abalone-models \\
        --model-data-url s3://my-bucket/abalone/model/model.tar.gz \\
        --evaluation-s3-uri s3://my-bucket/abalone/evaluation/evaluation.json

The default directories are those of a SageMaker Processing job. Only the standard library and
boto3: it runs in the SageMaker scikit-learn container.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("register_model")

APPROVAL_STATUSES = ("PendingManualApproval", "Approved", "Rejected")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/.+$")
GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# The default inference image: SageMaker's scikit-learn 1.9-0 CPU image (Python 3.12, scikit-learn 1.9.0,
# pandas 2.2.3, numpy 2.5.1), the newest in the SageMaker Python SDK's image URI table. Train with the same
# image: a model pickled by one scikit-learn version is not guaranteed to load in another.
SKLEARN_IMAGE_TAG = "1.9-0-cpu-py3"
# AWS accounts that publish it, per region (the SDK's table; the same accounts as for 1.2-1 and 1.4-2-py312).
# Another region or image: pass --image-uri.
SKLEARN_IMAGE_ACCOUNTS = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "ca-west-1": "190319476487",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}
# How the container serves model.tar.gz: it unpacks it into /opt/ml/model and imports the module
# SAGEMAKER_PROGRAM from SAGEMAKER_SUBMIT_DIRECTORY, here train.py's code/inference.py (without it the
# container's default handlers cannot load or feed the model).
SERVING_ENVIRONMENT = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
# What an endpoint or batch transform job serving this model accepts: CSV rows of features in,
# predicted rings out, on small CPU instances.
CONTENT_TYPES = ["text/csv"]
RESPONSE_TYPES = ["text/csv", "application/json"]
REALTIME_INSTANCE_TYPES = ["ml.t2.medium", "ml.m5.large", "ml.m5.xlarge"]
TRANSFORM_INSTANCE_TYPES = ["ml.m5.large", "ml.m5.xlarge"]


class StepError(Exception):
    """Bad input or a state the script cannot continue from; main() prints it as one line."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model-package-group-name", required=True, help="model package group to register into (created if missing)"
    )
    parser.add_argument("--model-data-url", required=True, help="S3 URI of model.tar.gz (train.py's output)")
    parser.add_argument(
        "--evaluation-s3-uri", help="S3 URI of evaluation.json, attached to the version as its ModelMetrics"
    )
    parser.add_argument(
        "--evaluation-dir",
        default="/opt/ml/processing/evaluation",
        help="directory holding evaluation.json, read to log and describe the metrics "
        "(if absent, --evaluation-s3-uri is read instead; default: %(default)s)",
    )
    parser.add_argument(
        "--image-uri", help=f"inference image (default: SageMaker scikit-learn {SKLEARN_IMAGE_TAG} image of the region)"
    )
    parser.add_argument(
        "--approval-status",
        default="PendingManualApproval",
        choices=APPROVAL_STATUSES,
        help="approval status of the new version (default: %(default)s)",
    )
    parser.add_argument("--description", help="description of the new version (default: one naming its metrics)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION)")
    parser.add_argument(
        "--output-dir",
        default="/opt/ml/processing/output",
        help="directory for registration.json (a SageMaker Processing output; default: %(default)s)",
    )
    return parser.parse_args(argv)


def resolve_region(region: str | None) -> str:
    """--region, else AWS_REGION / AWS_DEFAULT_REGION (set inside SageMaker jobs), else the AWS config."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    region = region or boto3.session.Session().region_name
    if not region:
        raise StepError("no AWS region: pass --region (e.g. us-east-1) or set AWS_REGION")
    return region


def check_args(args: argparse.Namespace) -> None:
    if not GROUP_NAME.match(args.model_package_group_name):
        raise StepError(
            f"--model-package-group-name {args.model_package_group_name!r} is not a valid name: "
            "use letters, digits and hyphens (at most 63), e.g. abalone-models"
        )
    for flag, uri in (("--model-data-url", args.model_data_url), ("--evaluation-s3-uri", args.evaluation_s3_uri)):
        if uri is not None and not S3_URI.match(uri):
            raise StepError(f"{flag} {uri!r} is not an S3 object URI; use the form s3://bucket/path/to/file")


def default_image_uri(region: str) -> str:
    account = SKLEARN_IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise StepError(f"no default scikit-learn image known for region {region!r}; pass --image-uri")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/sagemaker-scikit-learn:{SKLEARN_IMAGE_TAG}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def s3_object_exists(s3, uri: str) -> bool:
    bucket, key = split_s3_uri(uri)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response["Error"]["Code"] in ("404", "NoSuchKey", "NoSuchBucket"):
            return False
        raise
    return True


def load_metrics(s3, evaluation_dir: str, evaluation_s3_uri: str | None) -> dict:
    """The regression metrics train.py wrote, from the local directory or else from S3, as {name: value}."""
    path = os.path.join(evaluation_dir, "evaluation.json")
    if os.path.isfile(path):
        source = path
        with open(path, "rb") as fh:
            raw = fh.read()
    elif evaluation_s3_uri:
        source = evaluation_s3_uri
        bucket, key = split_s3_uri(evaluation_s3_uri)
        raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    else:
        raise StepError(
            f"no evaluation report: {path} does not exist; pass --evaluation-dir holding train.py's "
            "evaluation.json, or --evaluation-s3-uri"
        )
    try:
        report = json.loads(raw)
        return {name: float(metric["value"]) for name, metric in report["regression_metrics"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StepError(
            f"{source} is not an evaluation report: expected "
            '{"regression_metrics": {"<name>": {"value": <number>, ...}, ...}} '
            "as train.py writes it"
        ) from None


def ensure_group(sagemaker, name: str) -> None:
    """Create the model package group on first registration."""
    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=name)
        return
    except ClientError as err:
        if "does not exist" not in err.response["Error"].get("Message", ""):
            raise
    sagemaker.create_model_package_group(
        ModelPackageGroupName=name, ModelPackageGroupDescription="Random forests predicting abalone rings"
    )
    log.info("created model package group %s", name)


def register(sagemaker, args: argparse.Namespace, image_uri: str, metrics: dict) -> dict:
    """CreateModelPackage in the group: the next version, with its serving spec and metrics."""
    summary = ", ".join(f"{name} {value:.3f}" for name, value in metrics.items())
    request = {
        "ModelPackageGroupName": args.model_package_group_name,
        "ModelPackageDescription": args.description or f"Random forest predicting abalone rings; test {summary}",
        "ModelApprovalStatus": args.approval_status,
        # How to serve the model: the container image, the artifact it loads and the serving code's place.
        "InferenceSpecification": {
            "Containers": [
                {"Image": image_uri, "ModelDataUrl": args.model_data_url, "Environment": SERVING_ENVIRONMENT}
            ],
            "SupportedContentTypes": CONTENT_TYPES,
            "SupportedResponseMIMETypes": RESPONSE_TYPES,
            "SupportedRealtimeInferenceInstanceTypes": REALTIME_INSTANCE_TYPES,
            "SupportedTransformInstanceTypes": TRANSFORM_INSTANCE_TYPES,
        },
        # Shown in Studio's model version page; the values are strings.
        "CustomerMetadataProperties": {name: f"{value:.6g}" for name, value in metrics.items()},
    }
    if args.evaluation_s3_uri:
        # The Model Registry stores a pointer to the metrics report, not the numbers themselves.
        request["ModelMetrics"] = {
            "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": args.evaluation_s3_uri}}
        }
    arn = sagemaker.create_model_package(**request)["ModelPackageArn"]
    return sagemaker.describe_model_package(ModelPackageName=arn)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_args(args)
    region = resolve_region(args.region)
    image_uri = args.image_uri or default_image_uri(region)
    s3 = boto3.client("s3", region_name=region)
    sagemaker = boto3.client("sagemaker", region_name=region)

    # A version pointing at a missing artifact would register fine and fail only at deployment.
    if not s3_object_exists(s3, args.model_data_url):
        raise StepError(f"--model-data-url {args.model_data_url} does not exist; upload train.py's model.tar.gz there")
    if args.evaluation_s3_uri and not s3_object_exists(s3, args.evaluation_s3_uri):
        raise StepError(f"--evaluation-s3-uri {args.evaluation_s3_uri} does not exist; upload evaluation.json there")
    metrics = load_metrics(s3, args.evaluation_dir, args.evaluation_s3_uri)
    log.info("metrics: %s", ", ".join(f"{name} {value:.3f}" for name, value in metrics.items()))

    ensure_group(sagemaker, args.model_package_group_name)
    package = register(sagemaker, args, image_uri, metrics)
    log.info(
        "registered %s version %d (%s), image %s, model %s",
        args.model_package_group_name,
        package["ModelPackageVersion"],
        package["ModelApprovalStatus"],
        image_uri,
        args.model_data_url,
    )
    print(package["ModelPackageArn"])

    os.makedirs(args.output_dir, exist_ok=True)
    path = os.path.join(args.output_dir, "registration.json")
    with open(path, "w") as fh:
        json.dump(
            {
                "model_package_arn": package["ModelPackageArn"],
                "version": package["ModelPackageVersion"],
                "approval_status": package["ModelApprovalStatus"],
                "metrics": metrics,
            },
            fh,
            indent=2,
        )
    log.info("wrote %s", path)


def run_main(argv: list[str] | None = None) -> int:
    """Bad input and failed AWS calls end as one clear line on stderr and exit code 1."""
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # not its INFO lines on credentials and endpoints
    prog = os.path.basename(sys.argv[0]) or "register_model.py"
    try:
        main(argv)
    except StepError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    except ClientError as err:
        error = err.response.get("Error", {})
        print(
            f"{prog}: error: AWS call {err.operation_name} failed with {error.get('Code')}: {error.get('Message')}",
            file=sys.stderr,
        )
        return 1
    except BotoCoreError as err:
        print(f"{prog}: error: cannot reach AWS: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_main())
