"""compose.secrets.yml: credentials as Docker secret files reach the services, and no secret
shows in ``docker inspect`` or in any log."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests

from tests.compose.conftest import SECRETS_FILE, SERVICES, Project, docker

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SECRETS = {
    "kis_app_key": "PScomposeTestAppKey7f3a9c1e5b2d",
    "kis_app_secret": "composeTestAppSecret/4b8e2f0a9d7c6b5a3e1f",
    "kis_account": "73914682-01",
    "status_api_token": "compose-test-api-token-5d1c9e7a40b3f2",
    "discord_webhook_url": "http://webhook.invalid/api/webhooks/1234/composeTestWebhookToken",
}
"""Made-up values, each unlikely to appear anywhere by chance."""


def test_secret_files_work_and_never_show(
    new_project: Callable[..., Project], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("secrets")
    for name, value in SECRETS.items():
        (folder / name).write_text(value)
    # The repository's secrets/ belongs to the developer: point compose at this folder instead.
    paths = folder / "secret-paths.yml"
    paths.write_text(
        json.dumps({"secrets": {name: {"file": str(folder / name)} for name in SECRETS}})
    )
    project = new_project(files=[SECRETS_FILE, paths])
    project.up()

    # Each secret reached its user: the API's token, the account, the webhook.
    auth = {"Authorization": f"Bearer {SECRETS['status_api_token']}"}
    paused = requests.post(f"{project.api_url}/control/pause", headers=auth, timeout=10)
    assert paused.status_code == 200, paused.text
    resumed = requests.post(f"{project.api_url}/control/resume", headers=auth, timeout=10)
    assert resumed.status_code == 200, resumed.text
    status = project.get("/status")
    assert status["account"].endswith("-01")
    assert SECRETS["kis_account"] not in json.dumps(status)
    for service in ("scheduler", "executor", "notifier", "api"):
        mounted = project.exec(service, "cat", "/run/secrets/kis_app_key")
        assert mounted.stdout == SECRETS["kis_app_key"], service

    inspected = docker("inspect", *(c["Id"] for c in project.containers().values())).stdout
    logs = project.logs()
    assert set(project.health()) == set(SERVICES)
    for name, value in SECRETS.items():
        assert value not in inspected, f"{name} in docker inspect"
        assert value not in logs, f"{name} in the logs"
    # Nor a recognisable part: the webhook's token, the account's digits.
    for part in ("composeTestWebhookToken", "73914682"):
        assert part not in inspected + logs, part
