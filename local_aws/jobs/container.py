"""The "container" of a processing or training job: local processes that see their host's directory as /opt/ml.

Each host (algo-1..N) runs the job's command with the project's Python in place of the image
(`python`/`python3` map to sys.executable, also on PATH for shell drivers). Its processes see the
host's /opt/ml stand-in (see staging) at /opt/ml itself, in a mount namespace of their own (see
opt_ml_mount), and run the command as given. Where the machine allows no such namespace, the job's
log says so once and the job runs as before namespaces: /opt/ml/... rewritten to the stand-in in the
command, arguments, environment and the SDK's drivers, with the guard site refusing literal /opt/ml
paths (local_aws.job_side.opt_ml_guard). Each host runs under a supervisor, in a process group that ends
with the server however it ends (see processes). stdout+stderr stream line by line to CloudWatch Logs;
a stop request or the runtime limit ends the processes (SIGTERM, then SIGKILL), and so does an error
while the hosts start. Continuous outputs upload while it runs (see outputs).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlparse

from local_aws import job_side, settings
from local_aws.core.iam import credentials
from local_aws.core.moto import state as moto_state
from local_aws.core.runtime.config import client_environment
from local_aws.job_side import opt_ml_mount
from local_aws.jobs import sandbox, staging
from local_aws.jobs.outputs import RunResult, Uploader
from local_aws.jobs.processes import HostProcess
from local_aws.jobs.specs import ContainerError, ContainerSpec
from local_aws.jobs.staging import map_paths

PACKAGE_PARENT = job_side.FOLDER.resolve().parents[1]
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
_SHELLS = {"bash", "sh"}
STOP_GRACE_SECONDS = 5  # AWS waits up to 120 s after SIGTERM; jobs here are small
POLL_SECONDS = 0.2
CONTINUOUS_UPLOAD_SECONDS = 1.0
TAIL_LINES = 40
_logs_lock = threading.Lock()


class Container:
    """One job's hosts: stage, run, upload. `stop()` may be called from any thread."""

    def __init__(self, spec: ContainerSpec):
        self.spec = spec
        self.hosts = [f"algo-{i}" for i in range(1, spec.instance_count + 1)]
        self.roots = {host: spec.work_dir / host for host in self.hosts}
        self.uploader = Uploader(spec, self.roots, self._log)
        self._stop = threading.Event()
        self._procs: dict[str, HostProcess] = {}
        self._streams: dict[str, str] = {}  # host -> its CloudWatch Logs stream
        self.no_private_opt_ml = opt_ml_mount.unavailable()  # why /opt/ml is rewritten; None: it is not
        self.credentials_token = ""  # granted while the hosts run: they act as the job's role

    def stage(self) -> None:
        """Fill every host's /opt/ml stand-in (see staging)."""
        staging.stage(self.spec, self.roots, rewrite_sdk_scripts=bool(self.no_private_opt_ml))

    def _mapped(self, text: str, root: Path) -> str:
        """`text` as this host's processes need it: as it is, or with /opt/ml rewritten where it is not theirs."""
        return map_paths(text, root) if self.no_private_opt_ml else text

    def command_for(self, root: Path) -> list[str]:
        """The job's command as this host runs it: python as the project's interpreter, /opt/ml mapped if need be."""
        if not self.spec.command:
            raise ContainerError(self.spec.no_command_reason)
        argv = [self._mapped(arg, root) for arg in self.spec.command]
        if _PYTHON.fullmatch(os.path.basename(argv[0])):
            argv[0] = sys.executable
        if not self.no_private_opt_ml:
            return argv
        script = argv[1] if os.path.basename(argv[0]) in _SHELLS and len(argv) > 1 else argv[0]
        path = Path(script)
        if path.suffix == ".sh" or script != argv[0]:
            if path.is_file() and sandbox.is_inside(path, root):  # a shell driver staged with the job
                path.write_text(map_paths(path.read_text(), root))
        return argv

    def environment_for(self, host: str, root: Path) -> dict[str, str]:
        """A clean environment pointing AWS clients at the server with the role's credentials (fetched as a
        container fetches them), with the job's variables mapped."""
        port = urlparse(self.spec.endpoint_url).port
        kept = ("HOME", "LANG", "LC_ALL", "TMPDIR", settings.NETGUARD_LOG.name)
        env = {k: os.environ[k] for k in kept if k in os.environ}
        env["PATH"] = os.pathsep.join([str(staging.shims_dir(self.spec)), os.environ.get("PATH", os.defpath)])
        env.update(client_environment(port, self.spec.region, credentials_token=self.credentials_token))
        env.update({k: self._mapped(str(v), root) for k, v in self.spec.host_environment(host, self.hosts).items()})
        env.update({k: self._mapped(str(v), root) for k, v in self.spec.environment.items()})
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(job_side.GUARD_SITE), str(PACKAGE_PARENT), env.get("PYTHONPATH", "")])
        )
        env["PYTHONUNBUFFERED"] = "1"
        # pip inside a job (the SDK's @step dependencies step, a requirements install) finds what the
        # project's Python has without trying the package index, which nothing in local mode may reach.
        env.setdefault("PIP_NO_INDEX", "1")
        env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        env[settings.JOB_OPT_ML.name] = str(root)  # the stand-in: how the sweep knows a job's processes
        if self.no_private_opt_ml:
            env[settings.JOB_OPT_ML_GUARD.name] = "1"
        return env

    def run(self) -> RunResult:
        """Run every host to the end, the stop request or the runtime limit."""
        result = RunResult(exit_codes={})
        readers = []
        if self.no_private_opt_ml:
            self._log(
                self.hosts[0],
                f"local_aws: this job's processes cannot have an /opt/ml of their own here "
                f"({self.no_private_opt_ml}): /opt/ml/... is rewritten to each host's "
                f"directory only in the entrypoint, the arguments, the environment and the "
                f"SDK's own scripts, and a script that opens an /opt/ml path written in its "
                f"code fails.",
            )
        self.credentials_token = credentials.grant(self.spec.role_arn, "SageMaker")
        try:
            for host, root in self.roots.items():
                if self._stop.is_set():
                    break
                self._stream(host)
                proc = self._procs[host] = HostProcess(
                    self.command_for(root),
                    root,
                    self.environment_for(host, root),
                    self.spec.home,
                    private_opt_ml=not self.no_private_opt_ml,
                )
                tail: deque[str] = deque(maxlen=TAIL_LINES)
                result.tails[host] = tail  # type: ignore[assignment]
                reader = threading.Thread(target=self._pump, args=(host, proc, tail, result.lines), daemon=True)
                reader.start()
                readers.append(reader)
            self._watch(result)
        except BaseException:
            self._terminate()
            self._finish()
            raise
        if not self._procs:
            result.stopped = True  # stopped before any host started
        if result.stopped or result.timed_out:
            self._terminate()
        for reader in readers:
            reader.join(timeout=10)
        result.exit_codes = self._finish()
        result.tails = {host: list(tail) for host, tail in result.tails.items()}
        return result

    def _watch(self, result: RunResult) -> None:
        """Wait while a host runs, uploading continuous outputs, until the stop request or the runtime limit."""
        deadline = time.monotonic() + self.spec.max_runtime if self.spec.max_runtime else None
        last_upload = time.monotonic()
        while running := next((p for p in self._procs.values() if p.running()), None):
            if self._stop.is_set():
                result.stopped = True
                return
            if deadline and time.monotonic() > deadline:
                result.timed_out = True
                return
            if time.monotonic() - last_upload >= CONTINUOUS_UPLOAD_SECONDS:
                self.uploader.upload_outputs(continuous_only=True)
                last_upload = time.monotonic()
            running.wait(POLL_SECONDS)  # returns as soon as it exits

    def _finish(self) -> dict[str, int | None]:
        """Every started host's exit code, once its processes are gone (and their credentials with them)."""
        codes = {host: proc.finish() for host, proc in self._procs.items()}
        credentials.revoke(self.credentials_token)
        return codes

    def _stream(self, host: str) -> str:
        """The host's CloudWatch Logs stream, created on first use."""
        with _logs_lock:
            if host not in self._streams:
                self._streams[host] = f"{self.spec.job_name}/{host}-{int(time.time())}"
                moto_state.ensure_log_stream(
                    self.spec.region, self.spec.log_group, self._streams[host], self.spec.account_id
                )
            return self._streams[host]

    def _log(self, host: str, text: str) -> None:
        """A line of local_aws's own in the host's log."""
        stream = self._stream(host)
        with _logs_lock:
            moto_state.put_log_events(
                self.spec.region, self.spec.log_group, stream, [(int(time.time() * 1000), text)], self.spec.account_id
            )

    def _pump(self, host: str, proc: HostProcess, tail: deque, lines: list) -> None:
        """Forward the process's output, line by line, to its CloudWatch Logs stream."""
        stream = self._stream(host)
        for raw in proc.stdout:
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            stamp = int(time.time() * 1000)
            tail.append(text)
            lines.append((stamp, text))
            with _logs_lock:
                moto_state.put_log_events(
                    self.spec.region, self.spec.log_group, stream, [(stamp, text)], self.spec.account_id
                )
        proc.stdout.close()

    def stop(self) -> None:
        self._stop.set()

    def _terminate(self) -> None:
        """SIGTERM to every host's process group, SIGKILL after the grace period."""
        for proc in self._procs.values():
            proc.signal(signal.SIGTERM)
        limit = time.monotonic() + STOP_GRACE_SECONDS
        for proc in self._procs.values():
            if not proc.wait(max(0.0, limit - time.monotonic())):
                proc.signal(signal.SIGKILL)
