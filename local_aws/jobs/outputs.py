"""What a job's run leaves behind, as AWS reports it: S3 outputs, model.tar.gz, metrics, reasons.

Outputs are uploaded from every host's stand-in to their S3 URIs (Continuous ones while the job runs,
only files changed since the last upload); a training job's /opt/ml/model is packed as model.tar.gz.
Only the job's regular files are read: a symbolic link is not followed, as SageMaker follows none when
it uploads, and the job's log says which one was skipped (see sandbox).
FinalMetricDataList holds the last value each MetricDefinitions regex matched in the job's output.
FailureReason and ExitMessage are worded as AWS words them, or, when a script opened a literal
/opt/ml path, say how to pass that path instead.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from local_aws.core.moto import state as moto_state
from local_aws.job_side import opt_ml_guard
from local_aws.jobs import sandbox
from local_aws.jobs.specs import ContainerError, ContainerSpec

LogLine = Callable[[str, str], None]  # (host, text): a line in that host's log stream

REASON_LIMIT = 1024  # characters of FailureReason and ExitMessage AWS keeps


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


class Uploader:
    """Uploads a job's output directories, remembering what it sent so repeated uploads send changes only."""

    def __init__(self, spec: ContainerSpec, roots: dict[str, Path], log: LogLine):
        self.spec = spec
        self.roots = roots
        self.log = log
        self._uploaded: dict[Path, tuple[float, int]] = {}
        self._skipped: set[Path] = set()

    def upload_outputs(self, continuous_only: bool = False) -> None:
        """Every host's output directories to their S3 URIs (files changed since the last upload)."""
        for output in self.spec.outputs:
            if continuous_only and not output.continuous:
                continue
            bucket, prefix = moto_state.parse_s3_uri(output.s3_uri)
            if not moto_state.bucket_exists(bucket, self.spec.account_id):
                raise ContainerError(
                    f"ClientError: Failed to upload output {output.s3_uri}: the bucket {bucket} does not exist."
                )
            for host, root in self.roots.items():
                base = sandbox.local_path(output.container_path, root, output.confined_to)
                for path in self._files(host, root, base):
                    try:
                        info = path.lstat()
                    except FileNotFoundError:  # removed by the running job since it was listed
                        continue
                    version = (info.st_mtime, info.st_size)
                    data = sandbox.read_regular(path) if self._uploaded.get(path) != version else None
                    if data is None:  # unchanged, or replaced by a link since it was listed
                        continue
                    key = "/".join(filter(None, [prefix.rstrip("/"), path.relative_to(base).as_posix()]))
                    moto_state.put_object(bucket, key, data, self.spec.account_id)
                    self._uploaded[path] = version

    def upload_tarball(self, container_path: str, s3_uri: str, host: str = "algo-1", skip_empty: bool = False) -> bool:
        """Pack a host's directory as a .tar.gz (e.g. /opt/ml/model -> model.tar.gz) and upload it."""
        root = self.roots[host]
        base = sandbox.local_path(container_path, root)
        files = [
            (path, data) for path in self._files(host, root, base) if (data := sandbox.read_regular(path)) is not None
        ]
        if skip_empty and not files:
            return False
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for path, data in files:
                info = tar.gettarinfo(path, arcname=path.relative_to(base).as_posix())
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        bucket, key = moto_state.parse_s3_uri(s3_uri)
        if not moto_state.bucket_exists(bucket, self.spec.account_id):
            raise ContainerError(f"ClientError: Failed to upload {s3_uri}: the bucket {bucket} does not exist.")
        moto_state.put_object(bucket, key, buffer.getvalue(), self.spec.account_id)
        return True

    def _files(self, host: str, root: Path, base: Path) -> list[Path]:
        """The regular files below `base`; each symbolic link met is named in the host's log, once."""

        def skip(link: Path) -> None:
            if link not in self._skipped:
                self._skipped.add(link)
                self.log(
                    host,
                    f"local_aws: not uploaded: {sandbox.container_name(link, root)} is a symbolic link; "
                    f"SageMaker does not follow symbolic links when it uploads output data.",
                )

        return list(sandbox.regular_files(base, root, skip))


def read_files(roots: dict[str, Path], container_path: str, limit: int = REASON_LIMIT) -> str:
    """A container file's text from every host that wrote one, joined, cut at `limit` bytes."""
    texts = []
    for root in roots.values():
        data = sandbox.read_inside(root, container_path)
        if data is not None:
            texts.append(data.decode("utf-8", errors="replace"))
    return "".join(texts).encode()[:limit].decode("utf-8", errors="ignore")


def _unmapped_paths(roots: dict[str, Path]) -> list[tuple[str, Path]]:
    """(container path, host root) of every literal /opt/ml path a script reached for."""
    found = []
    for root in roots.values():
        record = sandbox.read_inside(root, f"{opt_ml_guard.CONTAINER_ROOT}/{opt_ml_guard.RECORD_FILE}")
        if record is not None:
            found += [(line, root) for line in record.decode("utf-8", errors="replace").splitlines() if line]
    return found


def failure_reason(result: RunResult, roots: dict[str, Path], failure_file: str = "") -> str:
    """AWS's AlgorithmError reason, or how to pass a literal /opt/ml path when that caused it."""
    unmapped = _unmapped_paths(roots)
    if unmapped:
        path, root = unmapped[0]
        return ("AlgorithmError: " + opt_ml_guard.explain(path, str(root)))[:REASON_LIMIT]
    host = result.failed_host or "algo-1"
    code = result.exit_codes.get(host)
    if failure_file.strip():
        return f"AlgorithmError: {failure_file.strip()}, exit code: {code}"[:REASON_LIMIT]
    last = next((line for line in reversed(result.tails.get(host, [])) if line.strip()), "")
    return (f'AlgorithmError: See job logs for more information. ExitCode {code}. ErrorMessage "{last.strip()}"')[
        :REASON_LIMIT
    ]


def exit_message(roots: dict[str, Path], result: RunResult | None, failed: bool) -> str | None:
    """/opt/ml/output/message as AWS reports it; for a failed job without one, the output's tail."""
    message = read_files(roots, "/opt/ml/output/message")
    if not message and failed and result is not None:
        host = result.failed_host or "algo-1"
        message = "\n".join(result.tails.get(host, []))[-REASON_LIMIT:]
    return message or None


def final_metrics(definitions: list[dict], lines: list[tuple[int, str]]) -> list[dict]:
    """The last value each MetricDefinitions regex matched in the job's output, as AWS reports it."""
    metrics = []
    for definition in definitions:
        pattern = re.compile(definition["Regex"])
        last = None
        for stamp, text in lines:
            match = pattern.search(text)
            if match:
                try:
                    last = (stamp, float(match.group(1) if match.groups() else match.group(0)))
                except ValueError:
                    continue
        if last:
            metrics.append(
                {
                    "MetricName": definition["Name"],
                    "Value": last[1],
                    "Timestamp": dt.datetime.fromtimestamp(last[0] / 1000, dt.UTC),
                }
            )
    return metrics
