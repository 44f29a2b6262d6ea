"""The Artifact Registry remote repository `clouds.gcp.image_registry` points at, and the Cloud Run service agent's
read on it: Cloud Run pulls only from Artifact Registry, gcr.io or docker.io, so ghcr.io images come through it.

    mirror = image_mirror(self, "image-mirror", gcp.image_registry, gcp.project, depends_on=...)
    GatewayService(..., depends_on=[*mirror.ready])   # None when image_registry is not a repo of this project

A remote repository (`mode = REMOTE_REPOSITORY`, a `custom_repository` upstream: google provider v6.50.0
website/docs/r/artifact_registry_repository.html.markdown, "remote_repository_config") pulls and caches the
upstream images on first use. Cloud Run pulls with its service agent,
`service-<project number>@serverless-robot-prod.iam.gserviceaccount.com`
(https://cloud.google.com/run/docs/deploying#other-projects), so that agent gets `roles/artifactregistry.reader` on
this repository only. An environment that created the repository by hand imports it once (README).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.artifact_registry_repository import (
    ArtifactRegistryRepository,
    ArtifactRegistryRepositoryRemoteRepositoryConfig,
    ArtifactRegistryRepositoryRemoteRepositoryConfigDockerRepository,
    ArtifactRegistryRepositoryRemoteRepositoryConfigDockerRepositoryCustomRepository,
)
from cdktf_cdktf_provider_google.artifact_registry_repository_iam_member import ArtifactRegistryRepositoryIamMember
from cdktf_cdktf_provider_google.data_google_project import DataGoogleProject
from constructs import Construct

# Where the LiteLLM images are published (ghcr.io/berriai/litellm-<component>).
UPSTREAM = "https://ghcr.io"
_REPOSITORY = re.compile(
    r"^(?P<location>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[a-z][a-z0-9-]+)/(?P<repo>[a-z0-9-]+)"
)


@dataclass(frozen=True)
class ImageMirror:
    repository: ArtifactRegistryRepository
    reader: ArtifactRegistryRepositoryIamMember

    @property
    def ready(self) -> list[ITerraformDependable]:
        """What a Cloud Run service or job must wait for before its first revision pulls an image."""
        return [self.repository, self.reader]


def image_mirror(
    scope: Construct,
    construct_id: str,
    image_registry: str | None,
    project: str,
    depends_on: Sequence[ITerraformDependable] = (),
) -> ImageMirror | None:
    """The repository and grant, when `image_registry` names an Artifact Registry repository of `project`."""
    match = _REPOSITORY.match(image_registry or "")
    if match is None or match["project"] != project:
        return None
    construct = Construct(scope, construct_id)
    repository = ArtifactRegistryRepository(
        construct,
        "repository",
        repository_id=match["repo"],
        location=match["location"],
        format="DOCKER",
        mode="REMOTE_REPOSITORY",
        description=f"Pull-through cache of {UPSTREAM} for the LiteLLM images",
        remote_repository_config=ArtifactRegistryRepositoryRemoteRepositoryConfig(
            description=UPSTREAM,
            docker_repository=ArtifactRegistryRepositoryRemoteRepositoryConfigDockerRepository(
                custom_repository=ArtifactRegistryRepositoryRemoteRepositoryConfigDockerRepositoryCustomRepository(
                    uri=UPSTREAM
                )
            ),
        ),
        depends_on=list(depends_on),
    )
    number = DataGoogleProject(construct, "project").number
    reader = ArtifactRegistryRepositoryIamMember(
        construct,
        "cloud-run-agent-reads",
        location=repository.location,
        repository=repository.name,
        role="roles/artifactregistry.reader",
        member=f"serviceAccount:service-{number}@serverless-robot-prod.iam.gserviceaccount.com",
    )
    return ImageMirror(repository, reader)
