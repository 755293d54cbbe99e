"""The deployment example (deploy/) stays true to the code: it names only settings that exist,
lets through the largest request the platform accepts, and does not restart an instance that
refused to start for a reason a restart cannot fix."""

import re
import tomllib
from pathlib import Path

from app import cli
from app.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_example_names_only_real_settings() -> None:
    text = (DEPLOY / "reinventons.env.example").read_text()
    named = re.findall(r"^(?:# )?REINVENTONS_([A-Z_]+)=", text, re.M)
    named += re.findall(r"REINVENTONS_([A-Z_]+)", text.split("# Optional:", 1)[1])
    assert {"DATABASE_URL", "SECRET_KEY", "BASE_URL", "DATA_DIR"} <= set(named)
    for name in named:
        assert name.lower() in Settings.model_fields, name


def test_the_proxy_lets_the_largest_form_through_and_passes_the_request_id() -> None:
    conf = (DEPLOY / "nginx" / "reinventons.conf").read_text()
    size = re.search(r"client_max_body_size (\d+)m;", conf)
    assert size and int(size.group(1)) * 1024 * 1024 >= Settings(secret_key="x").max_body_bytes
    assert "proxy_set_header X-Request-ID $request_id;" in conf
    assert "X-Forwarded-Proto $scheme" in conf
    assert "alias" not in conf and "root " not in conf  # DATA_DIR is never served by the proxy


def test_the_services_run_the_installed_command_and_do_not_restart_a_misconfigured_instance() -> None:
    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["reinventons"] == "app.cli:main"
    for name in ("reinventons-web.service", "reinventons-worker.service"):
        unit = (DEPLOY / "systemd" / name).read_text()
        assert re.search(r"^ExecStart=\S+/\.venv/bin/reinventons (serve|worker)", unit, re.M), name
        assert f"RestartPreventExitStatus={cli.EXIT_MISCONFIGURED}" in unit, name
        assert "EnvironmentFile=/etc/reinventons/reinventons.env" in unit
