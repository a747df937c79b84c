"""How the SageMaker SDK behaves in the tutorial's kernels: its noise filtered where it is logged, and its
config validated without re-checking the config schema at every lookup.

- Noise: the SDK logs lines a learner cannot act on at INFO or DEBUG, and repeats two true-by-design
  messages each time it builds a pipeline step ("Popping out 'ProcessingJobName' from the pipeline
  definition...": a pipeline names its jobs when it runs; "Running within a PipelineSession, there will be
  No Wait, No Logs, and No Job being started.": building a step starts nothing). Notebook 05 says so where
  it builds the steps; here they are dropped at their loggers, and every other warning stays.
- Speed: with a config file (local mode's opts out of telemetry; Studio domains often set one), the SDK
  validates it at every config lookup with `jsonschema.validate`, which first re-checks the SDK's
  1,200-line config schema against JSON Schema's metaschema: about 0.15 s a lookup, dozens per pipeline
  definition (10 s of notebook 05). jsonschema's own advice is to check a schema once; here each schema is
  checked once per kernel and each config still validated every time.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import sys
import warnings
from collections.abc import Callable
from types import ModuleType

# Loggers whose INFO and DEBUG lines say nothing a learner acts on.
QUIET_LOGGERS = ("botocore", "sagemaker.config", "sagemaker.core.resources", "sagemaker.core.utils.utils")
POPPING_OUT_LOGGERS = ("sagemaker.core.workflow.utilities", "sagemaker.mlops.workflow.model_step")


class _DropPoppingOut(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Popping out ")


class _WarningsOnly(logging.Filter):
    """A filter, not only a level: the SDK sets some of its loggers' levels again when it is imported."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def _add_filter(name: str, kind: type[logging.Filter]) -> None:
    logger = logging.getLogger(name)
    if not any(isinstance(f, kind) for f in logger.filters):
        logger.addFilter(kind())


def quiet() -> None:
    """Drop the SDK's noise (above) at its loggers; keep every other warning."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)  # their children too (botocore.*)
        _add_filter(name, _WarningsOnly)
    for name in POPPING_OUT_LOGGERS:
        _add_filter(name, _DropPoppingOut)
    warnings.filterwarnings("ignore", message="Running within a PipelineSession", category=UserWarning)


def check_each_schema_once() -> None:
    """From now on (or from jsonschema's import on), jsonschema.validate checks each schema once."""
    after_import("jsonschema", _check_each_schema_once)


def _check_each_schema_once(jsonschema: ModuleType) -> None:
    validate = jsonschema.validate
    if getattr(validate, "checked_schemas", None) is not None:
        return
    checked: dict[int, object] = {}  # id -> the schema itself, which keeps the id from being reused

    def validate_checking_schema_once(instance, schema, cls=None, *args, **kwargs):
        if checked.get(id(schema)) is not schema:
            validate(instance, schema, cls, *args, **kwargs)  # checks the schema, then the instance
            checked[id(schema)] = schema
            return
        validator = (cls or jsonschema.validators.validator_for(schema))(schema, *args, **kwargs)
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    validate_checking_schema_once.checked_schemas = checked
    validate_checking_schema_once.__doc__ = validate.__doc__
    jsonschema.validate = validate_checking_schema_once


def after_import(name: str, action: Callable[[ModuleType], None]) -> None:
    """Run `action` on module `name` now if it is imported, else right after its import."""
    if name in sys.modules:
        action(sys.modules[name])
    elif not any(isinstance(f, _AfterImport) and f.name == name for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(name, action))


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds module `name` as the other finders do, with a loader that runs `action` once it is loaded."""

    def __init__(self, name: str, action: Callable[[ModuleType], None]):
        self.name, self.action = name, action

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenRun(spec.loader, self.action)
        return spec


class _ThenRun(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, action: Callable[[ModuleType], None]):
        self.loader, self.action = loader, action

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.action(module)

    def __getattr__(self, attribute: str):  # resource readers and the like: the real loader's
        return getattr(self.loader, attribute)
