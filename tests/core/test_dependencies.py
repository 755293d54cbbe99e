"""The lock files agree with pyproject.toml: scripts/setup installs exactly them (with hashes),
so a dependency added to pyproject.toml without running scripts/lock would be missing."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _pins(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    for line in lines:
        if match := PIN.match(line):
            pins[canonicalize_name(match[1])] = match[2]
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if PIN.match(line):
            assert "--hash=sha256:" in following, f"{name}: {line} has no hash"
    return pins


def _declared(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(text) for text in declared]


@pytest.mark.parametrize(("lock", "extra"), [("requirements.txt", None), ("requirements-dev.txt", "dev")])
def test_every_declared_dependency_is_locked_at_an_allowed_version(lock: str, extra: str | None) -> None:
    pins = _pins(lock)
    wrong = []
    for requirement in _declared(extra):
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            wrong.append(f"{requirement} (locked: {pinned})")
    assert not wrong, f"{lock} disagrees with pyproject.toml, run scripts/lock: {wrong}"


def test_tests_run_the_versions_a_city_deploys() -> None:
    runtime, dev = _pins("requirements.txt"), _pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime
