"""Services are declared, not discovered by side effect: importing the modules of local_aws registers no operation,
patches nothing and starts nothing; a server answers exactly the operations of the services it is built from."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from support import REPO

CHECK = textwrap.dedent(
    """
    import importlib, pkgutil, sys, threading
    import local_aws
    from moto.sagemaker.models import SageMakerModelBackend

    untouched = SageMakerModelBackend._get_resource_from_arn
    threads = threading.active_count()
    imported = []
    for module in pkgutil.walk_packages(local_aws.__path__, "local_aws."):
        if module.name in ("local_aws.__main__",):
            continue
        importlib.import_module(module.name)
        imported.append(module.name)

    from local_aws.core import gateway
    from local_aws.core.gateway.gateway import Gateway
    from local_aws.core.gateway.router import Routes
    from local_aws.core.moto.calls import MotoApp
    from local_aws import featurestore
    from local_aws.services import SERVICES

    bare = Gateway([], MotoApp("127.0.0.1:1"), "http://127.0.0.1:1")
    assert bare.operations == {} and bare.rules == {} and bare.before_moto == {}, "a gateway of no service serves none"
    routes = Routes(bare)
    assert not (routes.json or routes.query or routes.rest), "no route without a service declaring it"
    assert gateway._installed == [], "importing installs no gateway"
    assert SageMakerModelBackend._get_resource_from_arn is untouched, "importing patches nothing in moto"
    assert threading.active_count() == threads, "importing starts no thread"

    only = Gateway([featurestore.SERVICE], MotoApp("127.0.0.1:1"), "http://127.0.0.1:1")
    assert {service for service, _ in only.operations} == {"sagemaker", "sagemaker-featurestore-runtime"}
    assert ("sagemaker", "CreateFeatureGroup") in only.operations
    assert ("sagemaker", "CreateProcessingJob") not in only.operations  # the jobs service was not given
    every = Gateway(SERVICES, MotoApp("127.0.0.1:1"), "http://127.0.0.1:1")
    assert ("sagemaker", "CreateProcessingJob") in every.operations
    print(len(imported), "modules imported")
    """
)


def test_importing_every_module_registers_no_operation_and_a_server_serves_only_what_it_is_given():
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[0]) > 60  # every module of every service, not a few
