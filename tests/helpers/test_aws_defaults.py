"""helpers.configure(backend="aws") outside SageMaker Studio, without reaching AWS: STS is answered by
the test's local_aws (AWS_ENDPOINT_URL_STS, which configure leaves alone), every other connection
outside loopback is refused by the network guard.

Outside Studio the caller's own identity (an SSO or admin role, an IAM user) is no role SageMaker can
assume: the default execution role is the project's role, which notebook 00 creates; the region is
the session's, and polling is AWS-paced."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import GUARD_SITE, REPO

SCRIPT = """
import json, helpers
setup = helpers.configure(backend="aws", project="demo")
print(json.dumps({"role": setup.role_arn, "region": setup.region, "poll": setup.poll_seconds,
                  "bucket": setup.bucket, "studio": helpers.session.in_studio()}))
"""


def test_outside_studio_the_default_role_is_the_project_role_and_the_region_the_sessions(aws, tmp_path):
    endpoint = aws.client("sts").meta.endpoint_url
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "LOCAL_AWS_PORT"))}
    env.update(
        {  # your AWS credentials: the key pair the test's local_aws issued, which it accepts
            "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL_STS": endpoint,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "PYTHONPATH": os.pathsep.join([str(GUARD_SITE), str(REPO)]),
            "LOCAL_AWS_NETGUARD_LOG": str(tmp_path / "netguard.log"),
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "role": "arn:aws:iam::123456789012:role/demo-sagemaker-execution",
        "region": "eu-west-1",
        "poll": 15,
        "bucket": "sagemaker-eu-west-1-123456789012",
        "studio": False,
    }
    assert not (tmp_path / "netguard.log").exists()
