"""No form of the withheld reference code is readable inside the sandbox (issue 8, part 1).

Before searching, every other form of the code is put where a careless setup leaves it: bytecode
caches beside the source (for this and another Python version, optimised too) and an editor's
backup file. The search itself is ``tests/withheld_search.py``; it runs once from the editable
install the suite uses and once from a virtual environment with a regular (non-editable) install,
where it skips the files the first search grepped clean that are provably unchanged.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vlcourse.grading.sandbox.sandbox import build_package_view, bwrap_works, visible_in_package
from vlcourse.paths import repo_root

from withheld_search import ASSIGNMENTS, search_sandbox
from vlcourse.grading.authoring.assignment import load_assignment

needs_bwrap = pytest.mark.skipif(not bwrap_works(), reason="needs bubblewrap (setup.sh installs it)")


def plant_other_forms(package: Path) -> list[Path]:
    """Bytecode caches of every withheld file (this version, another tag, -OO) and backup copies."""
    compileall.compile_dir(str(package), quiet=1)
    compileall.compile_dir(str(package), quiet=1, optimize=2)
    planted = []
    for name in ASSIGNMENTS:
        for source in load_assignment(name).withheld_files():
            cache = source.parent / "__pycache__"
            own = next(cache.glob(f"{source.stem}.cpython-*.pyc"))
            other = cache / f"{source.stem}.cpython-399.pyc"
            shutil.copyfile(own, other)
            backup = source.with_name(source.name + ".orig")
            shutil.copyfile(source, backup)
            planted += [other, backup]
    return planted


def assert_nothing_leaks(report: dict) -> None:
    assert report["sandboxed"], "the sandbox did not start"
    assert report["patterns"] > 50, "too few fingerprints: the search would prove little"
    assert report["leaks"] == {}, f"withheld code readable in the sandbox: {json.dumps(report['leaks'], indent=1)}"
    assert report["suspicious_names"] == [], report["suspicious_names"]
    # The control proves the fingerprints and the walk work: each handed-in copy is found, by source and bytecode.
    for name in report["control_files"]:
        kinds = {label.rsplit(": ", 1)[-1].split(" ")[0] for label in report["control"].get(name, [])}
        assert kinds & {"source", "bytecode"}, f"the search missed the handed-in copy {name}: {report['control']}"
    assert any("source" in label for labels in report["control"].values() for label in labels)
    assert any("bytecode" in label for labels in report["control"].values() for label in labels)


def test_the_package_view_is_an_allow_list(tmp_path):
    """Only source and data files reach the view; withheld files are empty; caches, backups, links stay out."""
    package = tmp_path / "pkg"
    (package / "sub" / "__pycache__").mkdir(parents=True)
    (package / "weights").mkdir()
    files = {"__init__.py": "x = 1", "sub/secret.py": "def answer(): return 42", "sub/open.py": "y = 2",
             "sub/__pycache__/secret.cpython-311.pyc": "bytecode", "sub/secret.py.orig": "def answer(): return 42",
             "sub/.secret.py.swp": "swap", "weights/m.safetensors": "w", "weights/manifest.json": "{}",
             "build.tar.gz": "archive", "py.typed": ""}
    for name, text in files.items():
        (package / name).write_text(text)
    (package / "sub" / "link.py").symlink_to(package / "sub" / "secret.py")
    view = build_package_view(package, [package / "sub" / "secret.py"], tmp_path / "view")
    seen = sorted(str(p.relative_to(view)) for p in view.rglob("*") if p.is_file())
    assert seen == ["__init__.py", "py.typed", "sub/open.py", "sub/secret.py", "weights/m.safetensors", "weights/manifest.json"]
    assert (view / "sub" / "secret.py").read_text() == ""
    assert (view / "sub" / "open.py").read_text() == "y = 2"


@pytest.fixture(scope="module")
def editable_search() -> dict:
    """The search from the editable install the suite runs from, with the other forms planted (both users need bwrap)."""
    package = Path(load_assignment(ASSIGNMENTS[0]).withheld_files()[0]).parents[1]
    planted = plant_other_forms(package)
    try:
        return search_sandbox()
    finally:
        for path in planted:
            path.unlink(missing_ok=True)


@needs_bwrap
def test_nothing_withheld_is_readable_from_an_editable_install(editable_search):
    assert_nothing_leaks(editable_search)
    assert editable_search["searched"] == editable_search["files"] > 10_000


def regular_install(env_dir: Path) -> Path:
    """A virtual environment with vlcourse installed from a copy of the source (not editable).

    Its other dependencies come from this suite's environment through a ``.pth`` line, so nothing
    is downloaded; pip compiles the installed package's bytecode as a normal install does.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    site = next((env_dir / "lib").glob("python3.*/site-packages"))
    ours = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (site / "zz_course_dependencies.pth").write_text(ours + "\n")
    source = env_dir.parent / "source"
    shutil.copytree(repo_root() / "vlcourse", source / "vlcourse", ignore=shutil.ignore_patterns("__pycache__", "*.orig"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(repo_root() / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--compile",
                    "--target", str(site), str(source)], check=True, capture_output=True)
    return env_dir / "bin" / "python"


@needs_bwrap
def test_nothing_withheld_is_readable_from_a_regular_install(tmp_path, editable_search):
    """The same search from a regular install; files the editable search grepped clean, unchanged since
    (same device, inode, size and times), are not grepped twice: everything else is, the new install included."""
    python = regular_install(tmp_path / "env")
    script = Path(__file__).with_name("withheld_search.py")
    known_clean = tmp_path / "known_clean.json"
    known_clean.write_text(json.dumps(editable_search["clean"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["VLCOURSE_ROOT"] = str(repo_root())
    done = subprocess.run([str(python), str(script), str(known_clean)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert Path(report["package"]).is_relative_to(tmp_path / "env"), f"not the regular install: {report['package']}"
    assert any(Path(report["package"]).rglob("losses.cpython-*.pyc")), "pip left no bytecode to hide"
    assert_nothing_leaks(report)
    package = Path(report["package"])
    visible = sum(1 for p in package.rglob("*") if p.is_file() and visible_in_package(p.relative_to(package)))
    assert visible <= report["searched"] < report["files"], "at least the new install's files must be grepped"
