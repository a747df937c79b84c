"""A job's /opt/ml stand-ins, one directory per host, filled before its command starts.

Each host (algo-1..N) gets a fresh directory standing for its /opt/ml: S3 inputs copied from moto's S3
(an S3 prefix laid out as SageMaker lays it out, a manifest's listed objects, ShardedByS3Key inputs
split across the hosts), the config files, the directories the container expects, a script-mode job's
source archive unpacked into /opt/ml/code (see script_mode), and, where the job's processes have no
/opt/ml of their own, the SDK's generated driver scripts with their /opt/ml paths rewritten. Every
local path, S3 key, manifest entry and archive member is resolved inside the stand-in first (see
sandbox). `python`, `python3` and `pip` shims on PATH run the project's interpreter in place of the
image's.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
import tarfile
from pathlib import Path

from local_aws.core.moto import state as moto_state
from local_aws.jobs import sandbox
from local_aws.jobs.sandbox import local_path
from local_aws.jobs.script_mode import CODE_DIR
from local_aws.jobs.specs import ContainerError, ContainerSpec, S3Input

_OPT_ML = re.compile(r"(?<![\w./-])/opt/ml(?![\w.-])")
# Scripts the SDK itself ships into a job's channels (the pipeline's model-repack step), written for
# the container's literal /opt/ml paths: rewritten like the SDK's drivers wherever they are staged.
SDK_SCRIPT_NAMES = frozenset({"_repack_model.py", "_repack_script_launcher.sh"})


def map_paths(text: str, root: Path) -> str:
    """Rewrite every /opt/ml path in `text` to the directory that stands for it."""
    return _OPT_ML.sub(lambda _: str(root), text)


def shims_dir(spec: ContainerSpec) -> Path:
    return spec.work_dir / ".bin"


def stage(spec: ContainerSpec, roots: dict[str, Path], rewrite_sdk_scripts: bool) -> None:
    """Fresh /opt/ml per host with inputs, config files, source code and directories in place."""
    shutil.rmtree(spec.work_dir, ignore_errors=True)
    _write_python_shims(shims_dir(spec))
    hosts = list(roots)
    archive = _code_archive(spec) if spec.code_archive else None
    for index, (host, root) in enumerate(roots.items()):
        (root / ".local_aws").mkdir(parents=True)
        for path in ["/opt/ml/output", *spec.directories]:
            local_path(path, root).mkdir(parents=True, exist_ok=True)
        for output in spec.outputs:
            local_path(output.container_path, root, output.confined_to).mkdir(parents=True, exist_ok=True)
        for inp in spec.inputs:
            _stage_input(spec, inp, root, index, len(hosts))
        for path, content in spec.host_files(host, hosts).items():
            target = local_path(path, root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(content, indent=2))
        if archive is not None:
            _unpack_code(spec, archive, root)
        for script in _sdk_scripts(spec, root) if rewrite_sdk_scripts else []:
            script.write_text(map_paths(script.read_text(), root))


def _code_archive(spec: ContainerSpec) -> bytes:
    """The source archive's bytes (a script-mode job's sagemaker_submit_directory, an S3 .tar.gz)."""
    uri = spec.code_archive or ""
    if not uri.startswith("s3://"):
        raise ContainerError(
            f"ClientError: sagemaker_submit_directory {uri!r} is not an S3 URI; SageMaker "
            f"downloads the source archive (sourcedir.tar.gz) from S3."
        )
    bucket, key = moto_state.parse_s3_uri(uri)
    data = moto_state.get_object(bucket, key, spec.account_id)
    if data is None:
        raise ContainerError(
            f"ClientError: Failed to download the source code: {uri} (sagemaker_submit_directory) does not exist."
        )
    return data


def _unpack_code(spec: ContainerSpec, archive: bytes, root: Path) -> None:
    """The source archive unpacked into /opt/ml/code, as the training toolkit unpacks it; a member that
    would land outside (an absolute path, ../, a link leading out) fails the job before it runs."""
    code = local_path(CODE_DIR, root)
    code.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            tar.extractall(code, filter="data")
    except tarfile.FilterError as exc:
        raise ContainerError(
            f"ClientError: the source archive {spec.code_archive} has a member that would be "
            f"written outside {CODE_DIR}: {exc}"
        ) from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ContainerError(
            f"ClientError: the source archive {spec.code_archive} could not be unpacked into "
            f"{CODE_DIR} (a .tar.gz is expected): {exc}"
        ) from None


def _sdk_scripts(spec: ContainerSpec, root: Path) -> list[Path]:
    """The staged scripts the SDK generated (drivers, repack), whose /opt/ml paths are rewritten."""
    drivers = [
        script
        for path in spec.driver_dirs
        for script in local_path(path, root).rglob("*")
        if script.suffix in (".sh", ".py") and script.is_file()
    ]
    shipped = [
        script
        for script in local_path("/opt/ml/input/data", root).rglob("*")
        if script.name in SDK_SCRIPT_NAMES and script.is_file()
    ]
    return list(dict.fromkeys(drivers + shipped))


def _stage_input(spec: ContainerSpec, inp: S3Input, root: Path, host_index: int, host_count: int) -> None:
    """Copy the input's objects below its local path; a key or manifest entry that would land outside it
    fails the job before anything is written."""
    directory = sandbox.resolve(inp.container_path, inp.confined_to)
    objects = _input_objects(spec, inp)
    if inp.distribution == "ShardedByS3Key":
        objects = objects[host_index::host_count]
    targets = [sandbox.placed(directory, relative, root, source) for _, _, relative, source in objects]
    local_path(directory, root).mkdir(parents=True, exist_ok=True)
    for (bucket, key, _, _), target in zip(objects, targets):
        data = moto_state.get_object(bucket, key, spec.account_id)
        if data is None:
            raise ContainerError(f"ClientError: Failed to download data. s3://{bucket}/{key} does not exist.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _input_objects(spec: ContainerSpec, inp: S3Input) -> list[tuple[str, str, str, str]]:
    """(bucket, key, path relative to the local path, where that path came from) of every object the
    input names."""
    bucket, prefix = moto_state.parse_s3_uri(inp.s3_uri)
    if inp.data_type == "ManifestFile":
        raw = moto_state.get_object(bucket, prefix, spec.account_id)
        if raw is None:
            raise ContainerError(f"ClientError: The manifest file {inp.s3_uri} does not exist.")
        manifest = json.loads(raw)
        base_bucket, base = moto_state.parse_s3_uri(manifest[0]["prefix"])
        return [(base_bucket, base + rel, rel, f"the manifest entry {rel!r} of {inp.s3_uri}") for rel in manifest[1:]]
    objects = [
        (bucket, key, _relative(key, prefix), f"the S3 object s3://{bucket}/{key}")
        for key, _, _ in moto_state.list_keys(bucket, prefix, spec.account_id)
        if not key.endswith("/")
    ]
    if not objects:
        raise ContainerError(
            f'ClientError: No S3 objects found under S3 URL "{inp.s3_uri}" given in input data source. '
            f"Please ensure that the bucket exists in the selected region ({spec.region}) and that "
            "objects exist under that S3 prefix."
        )
    return objects


def _relative(key: str, prefix: str) -> str:
    """Where an object lands below the local path, as SageMaker lays out an S3 prefix."""
    if key == prefix:
        return key.rsplit("/", 1)[-1]
    if not prefix or prefix.endswith("/"):
        return key[len(prefix) :]
    if key.startswith(prefix + "/"):
        return key[len(prefix) + 1 :]
    return key[len(prefix.rsplit("/", 1)[0]) + 1 :] if "/" in prefix else key


def _write_python_shims(bin_dir: Path) -> None:
    """`python`, `python3`, `pip` on PATH for shell drivers: the project's interpreter."""
    bin_dir.mkdir(parents=True)
    python = f'#!/bin/sh\nexec "{sys.executable}" "$@"\n'
    pip = (
        '#!/bin/sh\ncase "$1" in uninstall) echo "local_aws: skipped pip uninstall $*'
        ' (it would change the project environment)"; exit 0;; esac\n'
        f'exec "{sys.executable}" -m pip "$@"\n'
    )
    for name, text in (("python", python), ("python3", python), ("pip", pip), ("pip3", pip)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
