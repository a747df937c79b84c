"""helpers.sdk: jsonschema checks each schema once per process (the SDK validates its config at every
lookup), while every instance is still validated; the patch reaches jsonschema when it is imported later."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent("""
    import sys
    from helpers import sdk

    sdk.check_each_schema_once()
    assert "jsonschema" not in sys.modules  # nothing imported yet: the patch waits for jsonschema's import
    import jsonschema

    checks = []
    check_schema = jsonschema.Draft202012Validator.check_schema.__func__
    jsonschema.Draft202012Validator.check_schema = classmethod(
        lambda cls, schema, **kw: checks.append(id(schema)) or check_schema(cls, schema, **kw))
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"TelemetryOptOut": {"type": "boolean"}}, "additionalProperties": False}
    for _ in range(3):
        jsonschema.validate({"TelemetryOptOut": True}, schema)
    refused = []
    for bad in ({"TelemetryOptOut": "yes"}, {"Telemetry": True}):
        try:
            jsonschema.validate(bad, schema)
        except jsonschema.ValidationError as error:
            refused.append(error.message)
    try:
        jsonschema.validate({}, {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": 12})
    except jsonschema.SchemaError:
        refused.append("bad schema")
    print(len(checks), refused)
""")


def test_each_schema_is_checked_once_and_every_instance_still_validated():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    checks, refused = result.stdout.strip().split(" ", 1)
    assert checks == "2", result.stdout  # the good schema once for five validations, the bad one once
    assert refused == (
        "[\"'yes' is not of type 'boolean'\", \"Additional properties are not allowed "
        "('Telemetry' was unexpected)\", 'bad schema']"
    ), refused
