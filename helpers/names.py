"""Every AWS name and S3 location of the tutorial, derived from one project name.

Two people (or two runs, `abalone` and `demo`) can share an account and a bucket without
stepping on each other: each project gets its own feature group, model package group, pipeline,
job names and S3 prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Pipelines, model package groups and job names all accept [A-Za-z0-9] runs joined by hyphens.
_PROJECT = re.compile(r"^[a-z0-9](-?[a-z0-9])*$")
# The SDK appends a 24-character timestamp to base job names and AWS caps job names at 63.
MAX_PROJECT_LENGTH = 24
# Put on what notebook 00 creates (bucket, role), so notebook 99 deletes only what the tutorial made.
CREATED_BY_TAG = {"Key": "created-by", "Value": "sagemaker-pipelines-tutorial"}


def check_project(project: str) -> str:
    """The project name if it can prefix every resource name, else a ValueError saying why."""
    if not isinstance(project, str) or not _PROJECT.match(project):
        raise ValueError(
            f"project={project!r} cannot name AWS resources: use lower-case letters, digits and single "
            "hyphens, starting and ending with a letter or digit (for example 'abalone' or 'demo-2')"
        )
    if len(project) > MAX_PROJECT_LENGTH:
        raise ValueError(
            f"project={project!r} is {len(project)} characters long; use at most "
            f"{MAX_PROJECT_LENGTH} so job names stay under AWS's 63-character limit"
        )
    return project


@dataclass(frozen=True)
class Names:
    """Resource names and S3 keys of one tutorial project."""

    project: str

    def __post_init__(self) -> None:
        check_project(self.project)

    @property
    def feature_group(self) -> str:
        return f"{self.project}-features"

    @property
    def model_package_group(self) -> str:
        return f"{self.project}-models"

    @property
    def pipeline(self) -> str:
        return f"{self.project}-pipeline"

    @property
    def role(self) -> str:
        """The execution role the tutorial creates when none exists (on AWS: Studio's own role)."""
        return f"{self.project}-sagemaker-execution"

    def job(self, step: str) -> str:
        """Base name of a processing job, e.g. job('train') -> 'abalone-train' (SDK adds a timestamp)."""
        return f"{self.project}-{step}"

    @property
    def prefix(self) -> str:
        """Every object of the project lives under s3://<bucket>/<prefix>/."""
        return self.project

    def key(self, *parts: str) -> str:
        """An S3 key under the project prefix: key('data', 'abalone.csv') -> 'abalone/data/abalone.csv'."""
        return "/".join([self.prefix, *(p.strip("/") for p in parts if p)])

    def s3_uri(self, bucket: str, *parts: str) -> str:
        return f"s3://{bucket}/{self.key(*parts)}"
