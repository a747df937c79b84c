"""Serve train.py's model in the SageMaker scikit-learn container: the handlers its model server calls.

The container cannot serve the model on its own: its default model_fn raises NotImplementedError and
its default input_fn turns CSV into float32, which fails on the text feature `sex`. So train.py packs
this file into model.tar.gz as code/inference.py, and register_model.py sets the model's environment
SAGEMAKER_PROGRAM=inference.py and SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code: the container then
imports this module and calls model_fn(model_dir) once, and for each request
input_fn(body, content_type) -> predict_fn(data, model) -> output_fn(prediction, accept).

Request: text/csv rows WITHOUT a header, the eight features of the data set in this order (no rings
column): sex, length, diameter, height, whole_weight, shucked_weight, viscera_weight, shell_weight.

    M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15

Response: the predicted rings, one number per line (Accept: text/csv) or a JSON list
(Accept: application/json, the container's default when a request has no Accept header).

Bad input raises ValueError naming the bad value. The container answers every error of these
handlers with HTTP 500 and writes the message to the endpoint's CloudWatch log: in its single-model
server (sagemaker-containers) no exception of a handler becomes a 4xx.

To try it on an unpacked model.tar.gz: python inference.py --model-dir /tmp/model < rows.csv

Only the standard library, pandas and joblib (scikit-learn's): it runs in the container as is.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from typing import Any

import joblib
import pandas as pd

# The features train.py trains on, in the data set's (and the feature group's) order.
FEATURES = ("sex", "length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight")
TEXT_FEATURES = ("sex",)
CSV = "text/csv"
JSON = "application/json"
MODEL_FILE = "model.joblib"
ROW_FORMAT = f"text/csv rows without a header holding {', '.join(FEATURES)}"


def model_fn(model_dir: str) -> Any:
    """The scikit-learn Pipeline train.py saved; the container unpacks model.tar.gz into model_dir."""
    path = os.path.join(model_dir, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist: model.tar.gz must hold {MODEL_FILE}, as train.py writes it")
    return joblib.load(path)


def media_type(header: str) -> str:
    """'text/csv; charset=utf-8' -> 'text/csv': the container passes the header as the client sent it."""
    return header.split(";")[0].strip().lower()


def input_fn(input_data: str | bytes, content_type: str) -> pd.DataFrame:
    """CSV rows -> a DataFrame of the feature columns, `sex` as text and the measurements as float64.

    The container hands over text for exactly 'text/csv', bytes for 'text/csv; charset=...'.
    """
    if media_type(content_type or "") != CSV:
        raise ValueError(f"content type {content_type!r} is not supported: send {ROW_FORMAT}")
    rows = parse_rows(input_data)
    columns = {name: [row[i] for row in rows] for i, name in enumerate(FEATURES)}
    return pd.DataFrame(
        {name: values if name in TEXT_FEATURES else numbers(name, values) for name, values in columns.items()}
    )


def parse_rows(input_data: str | bytes) -> list[list[str]]:
    """The body's non-blank CSV rows, each checked to hold one value per feature."""
    try:
        text = input_data.decode("utf-8") if isinstance(input_data, (bytes, bytearray)) else input_data
    except UnicodeDecodeError:
        raise ValueError(f"the request body is not UTF-8 text: send {ROW_FORMAT}") from None
    rows = [[value.strip() for value in row] for row in csv.reader(io.StringIO(text)) if row]
    if not rows:
        raise ValueError(f"the request holds no CSV row: send {ROW_FORMAT}")
    for number, row in enumerate(rows, start=1):
        if len(row) != len(FEATURES):
            raise ValueError(
                f"row {number} {','.join(row)!r} has {len(row)} columns, expected {len(FEATURES)}: "
                f"{', '.join(FEATURES)} (no header, no rings)"
            )
    return rows


def numbers(name: str, values: list[str]) -> pd.Series:
    """A measurement column as float64; a value that is no number is named with its row."""
    parsed = []
    for number, value in enumerate(values, start=1):
        try:
            parsed.append(float(value))
        except ValueError:
            hint = ": send the rows without a header" if value == name else ""
            raise ValueError(f"row {number}: {name} {value!r} is not a number{hint}") from None
    return pd.Series(parsed, dtype="float64")


def predict_fn(data: pd.DataFrame, model: Any) -> Any:
    """Predicted rings, one per row."""
    return model.predict(data)


def output_fn(prediction: Any, accept: str) -> tuple[str, str]:
    """(body, content type): a tuple, so the container answers with this content type."""
    response_type = choose_response_type(accept)
    values = [float(value) for value in prediction]
    if response_type == JSON:
        return json.dumps(values), JSON
    return "".join(f"{value}\n" for value in values), CSV


def choose_response_type(accept: str) -> str:
    """The first of the Accept header's types that this model answers in; */* means JSON, as in the container."""
    for part in (accept or "").split(","):
        kind = media_type(part)
        if kind in (CSV, JSON):
            return kind
        if kind == "*/*":
            return JSON
    raise ValueError(f"accept {accept!r} is not supported: ask for {CSV} or {JSON}")


def main(argv: list[str] | None = None) -> int:
    """Serve the CSV rows on stdin through the handlers, as the container would: a local check of a model."""
    parser = argparse.ArgumentParser(description="Predict rings for CSV rows on stdin with the container's handlers.")
    parser.add_argument(
        "--model-dir",
        default="/opt/ml/model",
        help="directory holding model.joblib, e.g. an unpacked model.tar.gz (default: %(default)s)",
    )
    parser.add_argument(
        "--accept", default=CSV, help="response type, text/csv or application/json (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    try:
        body, _ = output_fn(predict_fn(input_fn(sys.stdin.read(), CSV), model_fn(args.model_dir)), args.accept)
    except (ValueError, OSError) as err:
        print(f"inference.py: error: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(body if body.endswith("\n") else body + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
