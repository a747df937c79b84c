"""The "container" of a processing or training job: a local process that sees /opt/ml as a directory.

Each instance (algo-1..N) gets a directory under the server's home that stands for its /opt/ml.
The runner stages S3 inputs into it from moto's S3, writes the config files, rewrites /opt/ml/...
in the command, arguments and environment, runs the command with the project's Python in place of
the image (`python`/`python3` map to sys.executable, also on PATH for shell drivers), streams
stdout+stderr line by line to CloudWatch Logs, enforces the stop request and the runtime limit,
and uploads outputs to S3. jobs.py owns the API and the job records; this module only runs.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import local_aws
from local_aws import moto_state, opt_ml_guard
from local_aws.config import client_environment

GUARD_SITE = Path(local_aws.__file__).with_name("_guard_site")
PACKAGE_PARENT = Path(local_aws.__file__).resolve().parents[1]
CONTAINER_ROOT = opt_ml_guard.CONTAINER_ROOT
_OPT_ML = re.compile(r"(?<![\w./-])/opt/ml(?![\w.-])")
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
_SHELLS = {"bash", "sh"}
STOP_GRACE_SECONDS = 5  # AWS waits up to 120 s after SIGTERM; jobs here are small
POLL_SECONDS = 0.2
# Scripts the SDK itself ships into a job's channels (the pipeline's model-repack step), written for
# the container's literal /opt/ml paths: rewritten like the SDK's drivers wherever they are staged.
SDK_SCRIPT_NAMES = frozenset({"_repack_model.py", "_repack_script_launcher.sh"})
CONTINUOUS_UPLOAD_SECONDS = 1.0
TAIL_LINES = 40
_logs_lock = threading.Lock()


class ContainerError(Exception):
    """The job cannot run as asked (missing input, bucket, entrypoint): its FailureReason."""


def map_paths(text: str, root: Path) -> str:
    """Rewrite every /opt/ml path in `text` to the directory that stands for it."""
    return _OPT_ML.sub(lambda _: str(root), text)


def local_path(container_path: str, root: Path) -> Path:
    if not opt_ml_guard.is_container_path(container_path):
        raise ContainerError(f"ClientError: local path {container_path} is not under {CONTAINER_ROOT}; "
                             f"SageMaker containers read and write their data under {CONTAINER_ROOT}/.")
    return Path(map_paths(container_path, root))


@dataclass
class S3Input:
    container_path: str  # e.g. /opt/ml/processing/input/data or /opt/ml/input/data/train
    s3_uri: str
    data_type: str = "S3Prefix"  # S3Prefix | ManifestFile
    distribution: str = "FullyReplicated"  # or ShardedByS3Key


@dataclass
class S3Output:
    container_path: str
    s3_uri: str
    continuous: bool = False


@dataclass
class ContainerSpec:
    job_name: str
    log_group: str  # /aws/sagemaker/ProcessingJobs | /aws/sagemaker/TrainingJobs
    region: str
    account_id: str
    endpoint_url: str  # how the job reaches the server
    work_dir: Path  # holds one /opt/ml stand-in per host
    command: list[str]  # as the container would run it (entrypoint + arguments)
    environment: dict[str, str] = field(default_factory=dict)
    instance_count: int = 1
    inputs: list[S3Input] = field(default_factory=list)
    outputs: list[S3Output] = field(default_factory=list)
    directories: list[str] = field(default_factory=list)  # container dirs that exist from the start
    max_runtime: int | None = None
    host_files: Callable[[str, list[str]], dict[str, Any]] = lambda host, hosts: {}  # path -> JSON
    host_environment: Callable[[str, list[str]], dict[str, str]] = lambda host, hosts: {}
    driver_dirs: list[str] = field(default_factory=list)  # SDK-generated driver scripts: paths rewritten


@dataclass
class RunResult:
    exit_codes: dict[str, int | None]
    stopped: bool = False
    timed_out: bool = False
    tails: dict[str, list[str]] = field(default_factory=dict)
    lines: list[tuple[int, str]] = field(default_factory=list)  # (ms, text) of every host, for metrics

    @property
    def failed_host(self) -> str | None:
        return next((h for h, code in self.exit_codes.items() if code), None)


class Container:
    """One job's hosts: stage, run, upload. `stop()` may be called from any thread."""

    def __init__(self, spec: ContainerSpec):
        self.spec = spec
        self.hosts = [f"algo-{i}" for i in range(1, spec.instance_count + 1)]
        self.roots = {host: spec.work_dir / host for host in self.hosts}
        self._stop = threading.Event()
        self._procs: dict[str, subprocess.Popen] = {}
        self._uploaded: dict[Path, tuple[float, int]] = {}

    # -- staging ---------------------------------------------------------------------------
    def stage(self) -> None:
        """Fresh /opt/ml per host with inputs, config files and directories in place."""
        shutil.rmtree(self.spec.work_dir, ignore_errors=True)
        self._write_python_shims(self.spec.work_dir / ".bin")
        for index, host in enumerate(self.hosts):
            root = self.roots[host]
            (root / ".local_aws").mkdir(parents=True)
            for path in ["/opt/ml/output", *self.spec.directories, *(o.container_path for o in self.spec.outputs)]:
                local_path(path, root).mkdir(parents=True, exist_ok=True)
            for inp in self.spec.inputs:
                self._stage_input(inp, local_path(inp.container_path, root), index)
            for path, content in self.spec.host_files(host, self.hosts).items():
                target = local_path(path, root)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(content, indent=2))
            for script in self._sdk_scripts(root):
                script.write_text(map_paths(script.read_text(), root))

    def _sdk_scripts(self, root: Path) -> list[Path]:
        """The staged scripts the SDK generated (drivers, repack), whose /opt/ml paths are rewritten."""
        drivers = [script for path in self.spec.driver_dirs for script in local_path(path, root).rglob("*")
                   if script.suffix in (".sh", ".py") and script.is_file()]
        shipped = [script for script in local_path("/opt/ml/input/data", root).rglob("*")
                   if script.name in SDK_SCRIPT_NAMES and script.is_file()]
        return list(dict.fromkeys(drivers + shipped))

    def _stage_input(self, inp: S3Input, dest: Path, host_index: int) -> None:
        objects = self._input_objects(inp)
        if inp.distribution == "ShardedByS3Key":
            objects = objects[host_index::len(self.hosts)]
        dest.mkdir(parents=True, exist_ok=True)
        for bucket, key, relative in objects:
            data = moto_state.get_object(bucket, key, self.spec.account_id)
            if data is None:
                raise ContainerError(f"ClientError: Failed to download data. s3://{bucket}/{key} does not exist.")
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def _input_objects(self, inp: S3Input) -> list[tuple[str, str, str]]:
        """(bucket, key, path relative to the local path) of every object the input names."""
        bucket, prefix = moto_state.parse_s3_uri(inp.s3_uri)
        if inp.data_type == "ManifestFile":
            raw = moto_state.get_object(bucket, prefix, self.spec.account_id)
            if raw is None:
                raise ContainerError(f"ClientError: The manifest file {inp.s3_uri} does not exist.")
            manifest = json.loads(raw)
            base_bucket, base = moto_state.parse_s3_uri(manifest[0]["prefix"])
            return [(base_bucket, base + rel, rel) for rel in manifest[1:]]
        objects = [(bucket, key, _relative(key, prefix))
                   for key, _, _ in moto_state.list_keys(bucket, prefix, self.spec.account_id)
                   if not key.endswith("/")]
        if not objects:
            raise ContainerError(
                f'ClientError: No S3 objects found under S3 URL "{inp.s3_uri}" given in input data source. '
                f"Please ensure that the bucket exists in the selected region ({self.spec.region}) and that "
                "objects exist under that S3 prefix.")
        return objects

    def _write_python_shims(self, bin_dir: Path) -> None:
        """`python`, `python3`, `pip` on PATH for shell drivers: the project's interpreter."""
        bin_dir.mkdir(parents=True)
        python = f'#!/bin/sh\nexec "{sys.executable}" "$@"\n'
        pip = ('#!/bin/sh\ncase "$1" in uninstall) echo "local_aws: skipped pip uninstall $*'
               ' (it would change the project environment)"; exit 0;; esac\n'
               f'exec "{sys.executable}" -m pip "$@"\n')
        for name, text in (("python", python), ("python3", python), ("pip", pip), ("pip3", pip)):
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)

    # -- running ---------------------------------------------------------------------------
    def command_for(self, root: Path) -> list[str]:
        if not self.spec.command:
            raise ContainerError("ClientError: local_aws runs the job's command as a local process and cannot run an "
                                 "image's built-in entrypoint; set the container entrypoint (e.g. ['python3', "
                                 "'/opt/ml/processing/input/code/script.py']).")
        argv = [map_paths(arg, root) for arg in self.spec.command]
        if _PYTHON.fullmatch(os.path.basename(argv[0])):
            argv[0] = sys.executable
        script = argv[1] if os.path.basename(argv[0]) in _SHELLS and len(argv) > 1 else argv[0]
        path = Path(script)
        if path.suffix == ".sh" or script != argv[0]:
            if path.is_file() and root in path.parents:  # a shell driver staged with the job
                path.write_text(map_paths(path.read_text(), root))
        return argv

    def environment_for(self, host: str, root: Path) -> dict[str, str]:
        port = urlparse(self.spec.endpoint_url).port
        env = {k: os.environ[k] for k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "LOCAL_AWS_NETGUARD_LOG")
               if k in os.environ}
        env["PATH"] = os.pathsep.join([str(self.spec.work_dir / ".bin"), os.environ.get("PATH", os.defpath)])
        env.update(client_environment(port, self.spec.region))
        env.update({k: map_paths(str(v), root) for k, v in self.spec.host_environment(host, self.hosts).items()})
        env.update({k: map_paths(str(v), root) for k, v in self.spec.environment.items()})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUARD_SITE), str(PACKAGE_PARENT),
                                                          env.get("PYTHONPATH", "")]))
        env["PYTHONUNBUFFERED"] = "1"
        env["LOCAL_AWS_OPT_ML"] = str(root)
        return env

    def run(self) -> RunResult:
        """Run every host to the end, the stop request or the runtime limit."""
        result = RunResult(exit_codes={})
        readers = []
        deadline = time.monotonic() + self.spec.max_runtime if self.spec.max_runtime else None
        for host, root in self.roots.items():
            if self._stop.is_set():
                break
            stream = f"{self.spec.job_name}/{host}-{int(time.time())}"
            with _logs_lock:
                moto_state.ensure_log_stream(self.spec.region, self.spec.log_group, stream, self.spec.account_id)
            try:
                proc = subprocess.Popen(self.command_for(root), cwd=root, env=self.environment_for(host, root),
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
            except OSError as exc:
                self.stop()
                raise ContainerError(f"ClientError: cannot start the container command: {exc}") from None
            self._procs[host] = proc
            tail: deque[str] = deque(maxlen=TAIL_LINES)
            result.tails[host] = tail  # type: ignore[assignment]
            reader = threading.Thread(target=self._pump, args=(proc, stream, tail, result.lines), daemon=True)
            reader.start()
            readers.append(reader)
        last_upload = time.monotonic()
        while any(p.poll() is None for p in self._procs.values()):
            if self._stop.is_set():
                result.stopped = True
                break
            if deadline and time.monotonic() > deadline:
                result.timed_out = True
                break
            if time.monotonic() - last_upload >= CONTINUOUS_UPLOAD_SECONDS:
                self.upload_outputs(continuous_only=True)
                last_upload = time.monotonic()
            running = next((p for p in self._procs.values() if p.poll() is None), None)
            try:
                if running:
                    running.wait(timeout=POLL_SECONDS)  # returns as soon as it exits
            except subprocess.TimeoutExpired:
                pass
        if not self._procs:
            result.stopped = True  # stopped before any host started
        if result.stopped or result.timed_out:
            self._terminate()
        for reader in readers:
            reader.join(timeout=10)
        result.exit_codes = {host: proc.wait() for host, proc in self._procs.items()}
        result.tails = {host: list(tail) for host, tail in result.tails.items()}
        return result

    def _pump(self, proc: subprocess.Popen, stream: str, tail: deque, lines: list) -> None:
        """Forward the process's output, line by line, to its CloudWatch Logs stream."""
        assert proc.stdout is not None
        for raw in proc.stdout:
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            stamp = int(time.time() * 1000)
            tail.append(text)
            lines.append((stamp, text))
            with _logs_lock:
                moto_state.put_log_events(self.spec.region, self.spec.log_group, stream, [(stamp, text)],
                                          self.spec.account_id)
        proc.stdout.close()

    def stop(self) -> None:
        self._stop.set()

    def _terminate(self) -> None:
        """SIGTERM to every host's process group, SIGKILL after the grace period."""
        for proc in self._procs.values():
            _signal_group(proc, signal.SIGTERM)
        limit = time.monotonic() + STOP_GRACE_SECONDS
        for proc in self._procs.values():
            try:
                proc.wait(timeout=max(0.0, limit - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)

    # -- results ---------------------------------------------------------------------------
    def read_files(self, container_path: str, limit: int = 1024) -> str:
        """A container file's text from every host that wrote one, joined, cut at `limit` bytes."""
        texts = []
        for root in self.roots.values():
            path = local_path(container_path, root)
            if path.is_file():
                texts.append(path.read_bytes().decode("utf-8", errors="replace"))
        return "".join(texts).encode()[:limit].decode("utf-8", errors="ignore")

    def unmapped_paths(self) -> list[tuple[str, Path]]:
        """(container path, host root) of every literal /opt/ml path a script reached for."""
        found = []
        for root in self.roots.values():
            record = root / opt_ml_guard.RECORD_FILE
            if record.is_file():
                found += [(line, root) for line in record.read_text().splitlines() if line]
        return found

    def upload_outputs(self, continuous_only: bool = False) -> None:
        """Every host's output directories to their S3 URIs (files changed since the last upload)."""
        for output in self.spec.outputs:
            if continuous_only and not output.continuous:
                continue
            bucket, prefix = moto_state.parse_s3_uri(output.s3_uri)
            if not moto_state.bucket_exists(bucket, self.spec.account_id):
                raise ContainerError(f"ClientError: Failed to upload output {output.s3_uri}: "
                                     f"the bucket {bucket} does not exist.")
            for root in self.roots.values():
                base = local_path(output.container_path, root)
                for path in sorted(p for p in base.rglob("*") if p.is_file()):
                    stat = path.stat()
                    if self._uploaded.get(path) == (stat.st_mtime, stat.st_size):
                        continue
                    key = "/".join(filter(None, [prefix.rstrip("/"), path.relative_to(base).as_posix()]))
                    moto_state.put_object(bucket, key, path.read_bytes(), self.spec.account_id)
                    self._uploaded[path] = (stat.st_mtime, stat.st_size)

    def upload_tarball(self, container_path: str, s3_uri: str, host: str = "algo-1",
                       skip_empty: bool = False) -> bool:
        """Pack a host's directory as a .tar.gz (e.g. /opt/ml/model -> model.tar.gz) and upload it."""
        base = local_path(container_path, self.roots[host])
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
        if skip_empty and not files:
            return False
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for path in files:
                tar.add(path, arcname=path.relative_to(base).as_posix())
        bucket, key = moto_state.parse_s3_uri(s3_uri)
        if not moto_state.bucket_exists(bucket, self.spec.account_id):
            raise ContainerError(f"ClientError: Failed to upload {s3_uri}: the bucket {bucket} does not exist.")
        moto_state.put_object(bucket, key, buffer.getvalue(), self.spec.account_id)
        return True


def _relative(key: str, prefix: str) -> str:
    """Where an object lands below the local path, as SageMaker lays out an S3 prefix."""
    if key == prefix:
        return key.rsplit("/", 1)[-1]
    if not prefix or prefix.endswith("/"):
        return key[len(prefix):]
    if key.startswith(prefix + "/"):
        return key[len(prefix) + 1:]
    return key[len(prefix.rsplit("/", 1)[0]) + 1:] if "/" in prefix else key


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
