"""No Docker engine runs here, so the deployment files are checked by reading them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
KNOWN = {name.upper() for name in Settings.model_fields}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (word, _) in enumerate(instructions) if word == "FROM"]
    return instructions[starts[-1] :]


def test_image_is_slim_and_runs_as_a_non_root_user() -> None:
    stage = final_stage(dockerfile_instructions())
    assert re.match(r"python:3\.1[1-9]-slim", stage[0][1])
    users = [rest for word, rest in stage if word == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_image_health_check_asks_healthz() -> None:
    stage = final_stage(dockerfile_instructions())
    (check,) = [rest for word, rest in stage if word == "HEALTHCHECK"]
    assert "/healthz" in check


def test_image_sets_only_variables_the_settings_know() -> None:
    for word, rest in dockerfile_instructions():
        if word == "ENV":
            for name in re.findall(r"([A-Z_][A-Z0-9_]*)=", rest):
                assert name in KNOWN or name.startswith("PYTHON"), name


def test_compose_runs_web_scheduler_postgres_and_redis() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "scheduler", "postgres", "redis"} <= set(services)
    assert services["scheduler"]["command"] == ["scalebot", "scheduler"]
    assert "--no-scheduler" in services["web"]["command"]


def test_compose_replicas_share_one_published_port_through_the_proxy() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name, service in services.items():
        if service.get("deploy", {}).get("replicas", 1) > 1:
            # A fixed host port can be bound once: the second replica would fail to start.
            assert not any(":" in str(p) for p in service.get("ports", [])), name
    assert services["proxy"]["ports"] == ["3000:3000"]
    (config,) = services["proxy"]["configs"]
    conf = compose["configs"][config["source"]]["content"]
    assert "server web:3000;" in conf and "proxy_pass http://scalebot;" in conf
    assert "$$host" in conf  # compose interpolates a single $, which would blank nginx's variables


def test_compose_sets_only_variables_the_settings_know() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    ours = [s for s in compose["services"].values() if "build" in s]
    assert len(ours) == 2
    for service in ours:
        env = service["environment"]
        names = set(env) if isinstance(env, dict) else {e.split("=", 1)[0] for e in env}
        assert names and names <= KNOWN, names - KNOWN
