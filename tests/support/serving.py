"""Serve a model.tar.gz as the SageMaker scikit-learn container serves it, without Docker or AWS.

What the image (aws/sagemaker-scikit-learn-container's sagemaker_sklearn_container.serving, on
sagemaker-containers 2.8.6.post2: a single-model endpoint or a batch transform job) does, in order:

1. unpacks ModelDataUrl into /opt/ml/model;
2. copies SAGEMAKER_SUBMIT_DIRECTORY (default /opt/ml/code, empty in a serving container) to
   /opt/ml/code, pip-installs it and imports the module SAGEMAKER_PROGRAM names, ".py" dropped;
3. model = model_fn("/opt/ml/model"), once (without a model_fn: NotImplementedError);
4. per request: the body as text when Content-Type is exactly text/csv or application/json, else
   bytes; an Accept that is missing or */* becomes SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (default
   application/json); then input_fn(body, content_type) -> predict_fn(data, model) ->
   output_fn(prediction, accept). A tuple result is (body, content type). Any exception of a handler
   is wrapped in ClientError and answered with HTTP 500 (the message goes to the log).

Here /opt/ml/model is the unpacked directory, and the module is imported from it in this process
or, with `python=`, in another interpreter (`python -m support.serving`, a JSON request on stdin),
e.g. one with the container's library versions. Refused rather than guessed at: code outside
model.tar.gz (an S3 submit directory), transform_fn, and relying on the container's default handlers.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from support import GUARD_SITE, REPO

MODEL_DIR = "/opt/ml/model"  # where the container unpacks model.tar.gz
CODE_DIR = "/opt/ml/code"  # SAGEMAKER_SUBMIT_DIRECTORY when unset
TEXT_TYPES = ("application/json", "text/csv")  # the content types whose body a handler gets as str
DEFAULT_ACCEPT = "application/json"
# What the container does for a handler the module lacks.
DEFAULT_HANDLERS = {
    "model_fn": "raises NotImplementedError",
    "input_fn": "decodes the body into a numpy array, cast to float32 for CSV and JSON",
    "predict_fn": "calls model.predict",
    "output_fn": "encodes the array as JSON, CSV or NPY",
}


class ServingError(Exception):
    """The container would not serve the model at all: no module to import, or no model loaded."""


@dataclass
class Response:
    """The container's answer to one request; for a 500, body is the handler's error (on AWS: in the log)."""

    status: int
    body: str
    content_type: str


def serve(
    model: str | Path,
    environment: dict[str, str],
    body: str | bytes,
    content_type: str,
    accept: str | None = None,
    python: str | None = None,
) -> Response:
    """One request to the model (a model.tar.gz or its unpacked directory) served with `environment`."""
    if python and python != sys.executable:
        return serve_in(python, model, environment, body, content_type, accept)
    with unpacked(Path(model)) as model_dir:
        module = import_user_module(model_dir, environment)
        handlers = user_handlers(module)
        try:
            loaded = handlers["model_fn"](str(model_dir))
        except Exception as err:
            raise ServingError(f"model_fn failed, so the container never serves: {type(err).__name__}: {err}") from err
        return invoke(handlers, loaded, environment, body, content_type, accept)


def serve_model_package(
    sagemaker_client: Any, s3_client: Any, package_arn: str, csv_body: str, python: str | None = None
) -> Response:
    """CSV rows served, with text/csv back, by a registered model package's container as registered."""
    spec = sagemaker_client.describe_model_package(ModelPackageName=package_arn)["InferenceSpecification"]
    if len(spec["Containers"]) != 1 or "sagemaker-scikit-learn" not in spec["Containers"][0]["Image"]:
        raise ServingError(f"{package_arn} is not served by one scikit-learn container: {spec['Containers']}")
    if "text/csv" not in spec.get("SupportedContentTypes", []):
        raise ServingError(f"{package_arn} does not accept text/csv: {spec.get('SupportedContentTypes')}")
    container = spec["Containers"][0]
    bucket, _, key = container["ModelDataUrl"][len("s3://") :].partition("/")
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "model.tar.gz"
        s3_client.download_file(bucket, key, str(archive))
        return serve(archive, container.get("Environment", {}), csv_body, "text/csv", "text/csv", python=python)


@contextlib.contextmanager
def unpacked(model: Path) -> Iterator[Path]:
    """The model directory: model.tar.gz unpacked into a temporary one, as the container does, or as given."""
    if model.is_dir():
        yield model
        return
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(model) as tar:
        tar.extractall(tmp, filter="data")
        yield Path(tmp)


def import_user_module(model_dir: Path, environment: dict[str, str]) -> ModuleType:
    """The module SAGEMAKER_PROGRAM names, imported from SAGEMAKER_SUBMIT_DIRECTORY inside the model."""
    program = environment.get("SAGEMAKER_PROGRAM")
    if not program:
        raise ServingError(
            "no SAGEMAKER_PROGRAM in the environment: the container has no module to import and fails every request"
        )
    submit_dir = environment.get("SAGEMAKER_SUBMIT_DIRECTORY", CODE_DIR)
    relative = os.path.relpath(submit_dir, MODEL_DIR)
    if not submit_dir.startswith("/") or relative.startswith(".."):
        raise ServingError(
            f"SAGEMAKER_SUBMIT_DIRECTORY {submit_dir!r} is not inside {MODEL_DIR}: emulated is "
            f"code packed in model.tar.gz only (unset, the container looks in the empty {CODE_DIR})"
        )
    name = program[:-3] if program.endswith(".py") else program
    code_dir = str(model_dir / relative)
    sys.path.insert(0, code_dir)
    sys.modules.pop(name, None)  # not a module of an earlier serve() of the same name
    importlib.invalidate_caches()
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ServingError(f"cannot import {name} from {submit_dir} (SAGEMAKER_PROGRAM {program!r}): {err}") from err
    finally:
        sys.path.remove(code_dir)
        sys.modules.pop(name, None)


def user_handlers(module: ModuleType) -> dict[str, Any]:
    """model_fn, input_fn, predict_fn and output_fn of the module; the container's defaults cannot serve here."""
    if hasattr(module, "transform_fn"):
        raise ServingError(f"{module.__name__} defines transform_fn, which this emulation does not call")
    for name, default in DEFAULT_HANDLERS.items():
        if not callable(getattr(module, name, None)):
            raise ServingError(f"{module.__name__} has no {name}; the container's default {default}")
    return {name: getattr(module, name) for name in DEFAULT_HANDLERS}


def invoke(
    handlers: dict[str, Any],
    model: Any,
    environment: dict[str, str],
    body: str | bytes,
    content_type: str,
    accept: str | None,
) -> Response:
    """One request through input_fn -> predict_fn -> output_fn, as the container's Flask worker runs it."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    content = raw.decode("utf-8") if content_type in TEXT_TYPES else raw
    if not accept or accept == "*/*":
        accept = environment.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", DEFAULT_ACCEPT)
    try:
        data = handlers["input_fn"](content, content_type)
        result = handlers["output_fn"](handlers["predict_fn"](data, model), accept)
    except Exception as err:  # sagemaker-containers wraps it in ClientError; Flask answers 500
        return Response(500, f"{type(err).__name__}: {err}", "text/plain")
    if isinstance(result, tuple):
        return Response(200, text_of(result[0]), result[1])
    if isinstance(result, (str, bytes)):
        return Response(200, text_of(result), "text/html; charset=utf-8")  # Flask's type for a bare body
    return Response(500, f"TypeError: output_fn returned a {type(result).__name__}, not a response", "text/plain")


def text_of(body: str | bytes) -> str:
    return body.decode("utf-8") if isinstance(body, bytes) else body


def serve_in(
    python: str,
    model: str | Path,
    environment: dict[str, str],
    body: str | bytes,
    content_type: str,
    accept: str | None,
) -> Response:
    """serve() run by another interpreter, e.g. one with the container's pandas and scikit-learn."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    request = {
        "model": str(model),
        "environment": environment,
        "body": base64.b64encode(raw).decode("ascii"),
        "content_type": content_type,
        "accept": accept,
    }
    path = os.pathsep.join([str(GUARD_SITE), str(REPO), str(REPO / "tests")])
    result = subprocess.run(
        [python, "-m", "support.serving"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": path},
    )
    if result.returncode != 0:
        raise ServingError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no output")
    return Response(**json.loads(result.stdout))


def main() -> int:
    """`python -m support.serving`: serve the JSON request on stdin, print the response as JSON."""
    request = json.load(sys.stdin)
    try:
        response = serve(
            request["model"],
            request["environment"],
            base64.b64decode(request["body"]),
            request["content_type"],
            request["accept"],
        )
    except ServingError as err:
        print(err, file=sys.stderr)
        return 1
    print(json.dumps(asdict(response)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
