"""deploy/k8s/, checked by reading (no cluster runs in CI): every manifest is
valid for the pinned Kubernetes version (strict: no unknown field), every
workload runs as non-root on a read-only root filesystem with resource
requests, its command is one the ``veritas`` command accepts, the API has
its probes, and only the migration Job gets the DBA login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from glue.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.35.0"  # the pinned version the manifests are valid for
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def workloads() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in MANIFESTS:
        doc = load(path)
        if doc["kind"] in {"Deployment", "Job"}:
            found.append((doc["metadata"]["name"], doc["spec"]["template"]["spec"]))
    return found


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_manifest_is_valid_for_the_pinned_kubernetes(path: Path) -> None:
    kubernetes_validate.validate(load(path), KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_an_unknown_field() -> None:
    doc = load(K8S / "api-deployment.yaml")
    doc["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_job_and_the_example_secret() -> None:
    listed = set(load(K8S / "kustomization.yaml")["resources"])
    expected = {p.name for p in MANIFESTS} - {"migrate-job.yaml", "secret.example.yaml"}
    assert listed == expected


def test_workloads_are_the_api_the_worker_and_the_migration() -> None:
    assert sorted(name for name, _ in workloads()) == [
        "veritas-api", "veritas-migrate", "veritas-worker"]


@pytest.mark.parametrize("name,pod", workloads(), ids=[n for n, _ in workloads()])
def test_workload_runs_locked_down(name: str, pod: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert f"--uid {pod['securityContext']['runAsUser']}" in dockerfile
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        command = container["command"]
        assert command[0] == "veritas"
        build_parser().parse_args(command[1:])  # exits (fails the test) if unknown


def test_only_the_migration_gets_the_dba_login() -> None:
    for name, pod in workloads():
        names = {e["name"] for c in pod["containers"] for e in c.get("env", [])}
        if name == "veritas-migrate":
            assert "DATABASE_URL" in names
        else:
            assert "DATABASE_URL" not in names
            assert "VERITAS_APP_DATABASE_URL" in names


def test_the_api_is_ready_when_its_database_answers_and_alive_while_it_listens() -> None:
    pod = dict(workloads())["veritas-api"]
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["tcpSocket"]["port"] == "http"
    assert any(p["name"] == "http" for p in container["ports"])
