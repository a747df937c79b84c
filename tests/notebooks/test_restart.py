"""A learner who stops local_aws (or reboots) after 03_train comes back to 04_register without running
00 to 03 again: the bucket, the role, the feature group, the training job and its model survive."""
from __future__ import annotations

from pathlib import Path

import papermill
import pytest

import local_aws
from support import REPO
from support.restart import OwnServer

NOTEBOOKS = REPO / "notebooks"


def run(name: str, out: Path) -> None:
    papermill.execute_notebook(NOTEBOOKS / f"{name}.ipynb", out / f"{name}.ipynb", cwd=str(NOTEBOOKS),
                               progress_bar=False, request_save_on_cell_execute=False)


def test_04_registers_the_model_03_trained_before_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    home.mkdir()
    server = OwnServer(home)
    for name, value in {**local_aws.client_environment(server.port), "LOCAL_AWS_HOME": str(home)}.items():
        monkeypatch.setenv(name, value)  # the kernels find this server, as helpers.configure would start it
    server.start()
    try:
        for name in ("00_setup", "01_feature_store_check", "02_ingest", "03_train"):
            run(name, tmp_path)
        server.stop()  # a clean stop, as at a reboot
        server.start()
        run("04_register", tmp_path)
        sm = server.session().client("sagemaker")
        versions = sm.list_model_packages(ModelPackageGroupName="abalone-models")["ModelPackageSummaryList"]
        assert len(versions) == 1
    finally:
        server.stop()
