"""What runs inside a job's processes rather than in the server: standard library only, quick to start.

supervisor        the first process of each job host: its private /opt/ml, its group's end with the server
opt_ml_mount      the mount namespace that gives a host its /opt/ml (the server also asks it what the machine allows)
toolkit_launcher  runs a framework-container program as the SageMaker training toolkit runs it
guard_site/       first on a job's PYTHONPATH: its sitecustomize turns the guards on before the script runs
netguard          refuses connections outside loopback (also installed by the server, tests and kernels)
opt_ml_guard      in a job whose /opt/ml is rewritten, refuses paths written literally as /opt/ml/...
"""

from pathlib import Path

FOLDER = Path(__file__).parent
SUPERVISOR = FOLDER / "supervisor.py"
TOOLKIT_LAUNCHER = FOLDER / "toolkit_launcher.py"
GUARD_SITE = FOLDER / "guard_site"
