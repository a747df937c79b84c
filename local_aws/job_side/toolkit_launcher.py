"""The SageMaker training toolkit's `train`, as a script-mode job runs it here in a framework image's place.

local_aws starts `python toolkit_launcher.py <code dir> <capture|inherit> <program> [args...]` as the job's
command (see script_mode), with the toolkit's SM_* environment set and the source archive unpacked into
<code dir>. As the toolkit does, it
- looks at requirements.txt: local_aws installs nothing (it runs offline, and the project's Python is
  the job's), so the log says which requirements that Python already meets and which it does not;
- runs the program from <code dir>: a .py with Python, a package with a setup.py as `python -m`, any
  other program with /bin/sh; its stderr, where the framework's container captures it (`capture`), is
  also kept for the reason;
- on failure writes ExecuteUserScriptError with the exit code, that stderr and the command to
  /opt/ml/output/failure (the job's FailureReason) and exits 1; on success writes /opt/ml/output/success.
A stop's SIGTERM reaches the program too (the host's process group): the launcher waits for its end.
"""

from __future__ import annotations

import importlib.metadata
import os
import shlex
import signal
import subprocess
import sys

from packaging.requirements import InvalidRequirement, Requirement

FAILURE_EXIT_CODE = 1  # the toolkit's DEFAULT_FAILURE_CODE


def report_requirements(code_dir: str) -> None:
    """Say which lines of requirements.txt the project's Python meets and which it does not."""
    path = os.path.join(code_dir, "requirements.txt")
    if not os.path.isfile(path):
        return
    met, unmet = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [line.split(" #", 1)[0].strip() for line in fh]
    for line in filter(None, lines):
        if line.startswith("#"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            unmet.append(f"{line} (not a requirement local_aws can check)")
            continue
        if requirement.marker and not requirement.marker.evaluate():
            continue
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            unmet.append(str(requirement))
            continue
        if requirement.specifier.contains(version, prereleases=True):
            met.append(f"{requirement} ({requirement.name} {version})")
        else:
            unmet.append(f"{requirement} ({requirement.name} {version} is installed)")
    print(
        "local_aws: requirements.txt: local_aws installs nothing (it runs offline, with the project's Python).",
        flush=True,
    )
    if met:
        print(f"local_aws: requirements.txt: already installed: {', '.join(met)}", flush=True)
    if unmet:
        print(f"local_aws: requirements.txt: not installed, and could not be: {', '.join(unmet)}", flush=True)


def command(code_dir: str, program: str, args: list[str]) -> list[str]:
    """How the toolkit runs the entry point (its _entry_point_type and ProcessRunner._create_command)."""
    if program.endswith(".sh"):
        return _shell(code_dir, program, args)
    if os.path.exists(os.path.join(code_dir, "setup.py")):
        print(
            "local_aws: the source has a setup.py; it is not installed with pip (the project's Python stays as "
            "it is): the program runs as a module from the source directory.",
            flush=True,
        )
        return [sys.executable, "-m", program.removesuffix(".py"), *args]
    if program.endswith(".py"):
        return [sys.executable, program, *args]
    return _shell(code_dir, program, args)


def _shell(code_dir: str, program: str, args: list[str]) -> list[str]:
    path = os.path.join(code_dir, program)
    if os.path.isfile(path):
        os.chmod(path, 0o755)
    return ["/bin/sh", "-c", f"./{program} {' '.join(shlex.quote(arg) for arg in args)}"]


def run(argv: list[str], code_dir: str, capture: bool) -> tuple[int, str]:
    """Run the program to its end; (exit code, its stderr when captured)."""
    if not capture:
        return subprocess.call(argv, cwd=code_dir), ""
    proc = subprocess.Popen(argv, cwd=code_dir, stderr=subprocess.PIPE)
    lines = []
    for raw in proc.stderr:
        sys.stderr.buffer.write(raw)
        sys.stderr.buffer.flush()
        lines.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    return proc.wait(), "\n".join(dict.fromkeys(lines)).strip()


def main(argv: list[str]) -> None:
    code_dir, mode, program, args = argv[0], argv[1], argv[2], argv[3:]
    signal.signal(signal.SIGTERM, lambda *_: None)  # meant for the program: wait for its end
    output_dir = os.environ["SM_OUTPUT_DIR"]
    report_requirements(code_dir)
    cmd = command(code_dir, program, args)
    print(f"Invoking script with the following command:\n\n{' '.join(cmd)}\n", flush=True)
    code, stderr = run(cmd, code_dir, mode == "capture")
    if code == 0:
        open(os.path.join(output_dir, "success"), "w").close()
        print("Reporting training SUCCESS", flush=True)
        return
    message = f'ExecuteUserScriptError:\nExitCode {code}\nErrorMessage "{stderr}"\nCommand "{" ".join(cmd)}"'
    failure = os.path.join(output_dir, "failure")
    if not os.path.exists(failure):
        with open(failure, "w", encoding="utf-8") as fh:
            fh.write(message.strip())
    print(f"Reporting training FAILURE\n{message.strip()}", file=sys.stderr, flush=True)
    sys.exit(FAILURE_EXIT_CODE)


if __name__ == "__main__":
    main(sys.argv[1:])
