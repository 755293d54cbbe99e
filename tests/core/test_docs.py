"""docs/architecture.md is the map a newcomer reads: every package and kernel module it names
exists, and every one that exists is named."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def _named_in_doc() -> set[str]:
    return set(re.findall(r"`(app/[\w/]+(?:\.py)?)`", DOC.read_text(encoding="utf-8")))


def _in_tree() -> set[str]:
    app = ROOT / "app"
    packages = {f"app/{p.name}/" for p in app.iterdir() if p.is_dir() and not p.name.startswith("__")}
    modules = {f"app/{p.name}" for p in app.glob("*.py") if p.name != "__init__.py"}
    return packages | modules


def test_every_package_and_kernel_module_is_on_the_map() -> None:
    missing = sorted(_in_tree() - _named_in_doc())
    assert not missing, f"add these to docs/architecture.md: {missing}"


def test_the_map_names_nothing_that_does_not_exist() -> None:
    ghosts = sorted(name for name in _named_in_doc() if not (ROOT / name).exists())
    assert not ghosts, f"docs/architecture.md names what does not exist: {ghosts}"


def test_readme_and_contributing_point_inside_the_repository() -> None:
    for name in ("README.md", "CONTRIBUTING.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "../shared" not in text, name
        assert "docs/architecture.md" in text, name


def test_every_public_service_function_says_what_it_takes_and_raises() -> None:
    """Services and queries are what routes and other domains call: each public function has a
    docstring (what it takes and returns, which AppErrors it raises)."""
    undocumented = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if "migrations" in path.parts or not path.name.endswith(("service.py", "queries.py", "decisions.py")):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_") \
                    and not ast.get_docstring(node):
                undocumented.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert not undocumented, undocumented
