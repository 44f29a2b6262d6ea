"""GCP: the Artifact Registry remote repository `image_registry` points at exists, Cloud Run may read it, and nothing
pulls before both are in place.

Rules: Cloud Run pulls only from Artifact Registry, gcr.io or docker.io (constructs_lib/config/gcp.py refuses
ghcr.io), with its service agent `service-<project number>@serverless-robot-prod.iam.gserviceaccount.com`
(https://cloud.google.com/run/docs/deploying#other-projects); a remote repository is `mode = REMOTE_REPOSITORY`
with `remote_repository_config.docker_repository.custom_repository.uri` (google provider v6.50.0,
website/docs/r/artifact_registry_repository.html.markdown).
"""

from __future__ import annotations

import re

from tests.test_gcp_stack_options import _load, _synth


def _stack(tmp_path, **edits):
    config = _load(tmp_path, edits)
    return config.cloud("gcp"), _synth(config)


def test_the_repository_image_registry_names_is_a_remote_mirror_of_the_upstream(tmp_path):
    gcp, stack = _stack(tmp_path)
    location, project, repo = re.match(r"^([a-z0-9-]+)-docker\.pkg\.dev/([^/]+)/([^/]+)/", gcp.image_registry).groups()
    assert project == gcp.project
    (repository,) = stack["resource"]["google_artifact_registry_repository"].values()
    assert (repository["repository_id"], repository["location"]) == (repo, location)
    assert repository["format"] == "DOCKER" and repository["mode"] == "REMOTE_REPOSITORY"
    docker = repository["remote_repository_config"]["docker_repository"]
    assert docker["custom_repository"]["uri"] == "https://ghcr.io"
    # Every image the stack runs comes from it.
    for service in stack["resource"]["google_cloud_run_v2_service"].values():
        for container in service["template"]["containers"]:
            if container["image"].startswith(f"{location}-docker.pkg.dev/"):
                assert container["image"].startswith(f"{gcp.image_registry}/")


def test_the_cloud_run_service_agent_reads_it_and_every_revision_waits_for_both(tmp_path):
    _, stack = _stack(tmp_path)
    ((repo_name, _),) = stack["resource"]["google_artifact_registry_repository"].items()
    ((grant_name, grant),) = stack["resource"]["google_artifact_registry_repository_iam_member"].items()
    assert grant["role"] == "roles/artifactregistry.reader"
    assert re.fullmatch(
        r"serviceAccount:service-\$\{data\.google_project\.[^}]+\.number\}@serverless-robot-prod\.iam\.gserviceaccount\.com",
        grant["member"],
    )
    assert grant["repository"] == f"${{google_artifact_registry_repository.{repo_name}.name}}"
    waiting = [
        *stack["resource"]["google_cloud_run_v2_service"].values(),
        *stack["resource"]["google_cloud_run_v2_job"].values(),
    ]
    for body in waiting:
        assert f"google_artifact_registry_repository.{repo_name}" in body["depends_on"]
        assert f"google_artifact_registry_repository_iam_member.{grant_name}" in body["depends_on"]


def test_a_registry_of_another_project_is_left_alone(tmp_path):
    _, stack = _stack(tmp_path, image_registry="us-central1-docker.pkg.dev/shared-images/ghcr/berriai")
    assert "google_artifact_registry_repository" not in stack["resource"]
