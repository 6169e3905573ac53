"""pyproject.toml and environment.yml must name the same dependencies with the same pins."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["test"]
    return {requirement_name(s): s.replace(" ", "") for s in specs}


def environment_requirements() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:") + 1
    specs = [line.strip()[2:] for line in lines[start:] if line.strip().startswith("- ")]
    return {requirement_name(s): s.replace(" ", "") for s in specs if not s.startswith("-e")}


def test_same_dependencies_and_pins():
    assert pyproject_requirements() == environment_requirements()


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def test_top_level_layout():
    for name in ("lectures", "exercises", "solutions", "grader", "vlcourse", "environment.yml", "README.md"):
        assert (ROOT / name).exists(), name
