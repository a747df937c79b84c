"""SageMaker models (CreateModel's): DescribeModel answered in AWS's shape.

moto keeps the models (CreateModel is moto's; DescribeModel reads moto's record through an adapter of
local_aws.core.moto.state), but describes one created without a VpcConfig or Containers with
`"VpcConfig": {}` and `"Containers": []`, where AWS leaves both out. The SageMaker SDK v3 parses the
answer into pydantic shapes (`Model.get`, and so `ModelBuilder.build()`), which refuse a VpcConfig
without its required SecurityGroupIds and Subnets. So DescribeModel answers moto's record as AWS
would: shaped by the botocore output shape (`aws_answer`), unset members left out.
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape

from local_aws.core.gateway.context import RequestContext
from local_aws.core.gateway.errors import ValidationException
from local_aws.core.gateway.service_models import service_model
from local_aws.core.moto import state as moto_state
from local_aws.core.service import Api


def aws_answer(service: str, operation: str, answer: dict) -> dict:
    """`answer` as the operation's output shape has it, without what AWS leaves out when unset: members
    the shape does not have, None, and empty lists, maps and structures (moto fills in `[]` and `{}`
    for members a request did not set). Members the shape requires are kept as they are."""
    return _shaped(service_model(service).operation_model(operation).output_shape, answer)


def _shaped(shape: Shape, value: Any) -> Any:
    if shape.type_name == "structure" and isinstance(value, dict):
        kept = {}
        for name, member in shape.members.items():
            item = _shaped(member, value.get(name))
            if item is not None and (item not in ([], {}) or name in shape.required_members):
                kept[name] = item
        return kept
    if shape.type_name == "list" and isinstance(value, list):
        return [_shaped(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _shaped(shape.value, item) for key, item in value.items()}
    return value


api = Api("sagemaker")


@api.operation("DescribeModel")
def describe_model(request: dict, ctx: RequestContext) -> dict:
    answer = moto_state.describe_model(ctx.region, ctx.account_id, request["ModelName"])
    if answer is None:
        arn = f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:model/{request['ModelName'].lower()}"
        raise ValidationException(f'Could not find model "{arn}".')
    return aws_answer("sagemaker", "DescribeModel", answer)
