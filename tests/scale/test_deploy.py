"""deploy/ is read as Docker Compose and systemd would read it (no Docker daemon here):
every TAYUK_ setting it passes exists, every service is health-checked or a one-shot the
others wait for, every unit restarts and runs as the tayuk user."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from bot.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTING = re.compile(r"\bTAYUK_[A-Z0-9_]+")
# Read by the Compose file itself (image, scale, public host), not by Tayuk.
COMPOSE_ONLY = {"TAYUK_IMAGE", "TAYUK_WORKERS", "PUBLIC_HOST"}


def known_settings() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseSettings):
            prefix = str(section.model_config.get("env_prefix", ""))
            names |= {f"{prefix}{sub}".upper() for sub in section.model_fields}
        else:
            names.add(f"TAYUK_{name}".upper())
    return names


def environment_of(service: dict[str, Any]) -> set[str]:
    env = service.get("environment") or {}
    keys = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
    return {k for k in keys if k.startswith("TAYUK_")}


def test_the_settings_table_is_what_pydantic_reads() -> None:
    known = known_settings()
    assert {"TAYUK_REDIS_URL", "TAYUK_FILES_S3_BUCKET", "TAYUK_DATABASE_POOL_SIZE"} <= known
    assert "TAYUK_LOG_FORMAT" in known and "TAYUK_WORKER_PROCESSES" in known


def test_compose_passes_only_real_settings_and_checks_every_service() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services: dict[str, dict[str, Any]] = compose["services"]
    known = known_settings()
    assert {"postgres", "redis", "minio", "migrate", "bot-1", "bot-2", "worker", "mail"} <= set(
        services
    )
    waited_for: set[str] = set()
    for name, service in services.items():
        for target, condition in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on a missing {target}"
            if condition.get("condition") == "service_completed_successfully":
                waited_for.add(target)
    for name, service in services.items():
        unknown = environment_of(service) - known
        assert not unknown, f"{name} passes settings Tayuk does not have: {unknown}"
        if service.get("restart") == "no":
            continue  # one-shots: checked below to be waited for
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert service.get("restart") in ("always", "unless-stopped"), name
    one_shots = {n for n, s in services.items() if s.get("restart") == "no"}
    assert one_shots == {"migrate", "buckets"} and one_shots <= waited_for
    # The replicas are in webhook mode behind the proxy, share Redis and keep files in S3.
    for replica in ("bot-1", "bot-2"):
        env = services[replica]["environment"]
        assert env["TAYUK_TELEGRAM_WEBHOOK_URL"] and env["TAYUK_TELEGRAM_WEBHOOK_SECRET"]
        assert env["TAYUK_REDIS_URL"] and env["TAYUK_FILES_BACKEND"] == "s3"
        assert env["TAYUK_WORKER_ENABLED"] == "false"
        assert replica in (DEPLOY / "Caddyfile").read_text()
    assert services["migrate"]["command"] == ["db", "upgrade"]
    # Every ${VAR} compose needs from the operator is in the example .env.
    compose_text = (DEPLOY / "compose.yaml").read_text()
    wanted = set(re.findall(r"\$\{([A-Z0-9_]+)(?::\?|:-[^}]*)?\}", compose_text))
    offered = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert wanted - {"TAYUK_IMAGE"} <= offered, wanted - offered


def unit(path: Path) -> dict[str, list[str]]:
    """A unit's keys and values (a key may repeat, as Environment= does)."""
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_units_pass_only_real_settings_and_restart() -> None:
    known = known_settings()
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {
        "tayuk.service",
        "tayuk-worker@.service",
        "tayuk-mail.service",
        "tayuk-migrate.service",
    }
    for path in units:
        keys = unit(path)
        assert keys["ExecStart"] and keys["User"] == ["tayuk"], path.name
        assert keys["EnvironmentFile"] == ["/etc/tayuk/tayuk.env"], path.name
        passed = {value.split("=", 1)[0] for value in keys.get("Environment", [])}
        assert passed <= known, f"{path.name}: {passed - known}"
        if keys.get("Type") != ["oneshot"]:
            assert keys["Restart"] == ["always"], path.name
    env_file = set(SETTING.findall((DEPLOY / "systemd" / "tayuk.env").read_text()))
    assert env_file and env_file <= known, env_file - known


def test_the_image_is_slim_non_root_reads_hebrew_and_installs_the_lockfile() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "requirements.lock" in dockerfile and "tesseract-ocr-heb" in dockerfile
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert "HEALTHCHECK" in dockerfile
    assert set(SETTING.findall(dockerfile)) <= known_settings()


def test_the_deploy_readme_names_only_real_settings() -> None:
    mentioned = set(SETTING.findall((DEPLOY / "README.md").read_text()))
    assert mentioned and mentioned - COMPOSE_ONLY <= known_settings(), mentioned - known_settings()
