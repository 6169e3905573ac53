"""``vlcourse jupyter-role``: a student's JupyterLab without nbgrader's tools, an instructor's with them.

Checked as Jupyter itself sees it, in a throwaway virtual environment layered on this one (its own
``sys.prefix``, a copy of this environment's Jupyter config, an empty user config): the role is
applied there at its default place, then ``jupyter labextension list``, ``jupyter server extension
list`` and a running JupyterLab report it. The environment the tests run in is never changed.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import vlcourse
from vlcourse.cli import main
from vlcourse.jupyter_role import LAB_PLUGINS, SERVER_EXTENSIONS, apply_role, current_role, environment_config_dir

HERE_CONFIG = Path(sys.prefix) / "etc" / "jupyter"
HERE_DATA = Path(sys.prefix) / "share" / "jupyter"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content (to show a test left it alone)."""
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


@pytest.fixture(scope="module")
def throwaway(tmp_path_factory):
    """A virtual environment that sees this one's packages but has its own prefix and Jupyter config."""
    if not (HERE_DATA / "labextensions" / "@jupyter" / "nbgrader").is_dir():
        pytest.skip(f"nbgrader's JupyterLab extension is not installed in {sys.prefix}")
    before = snapshot(HERE_CONFIG)
    root = tmp_path_factory.mktemp("jupyter_role")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    ours = [p for p in sys.path if p.endswith("site-packages")]
    (site / "vlcourse_parent.pth").write_text(f"{Path(vlcourse.__file__).parents[1]}\n"
                                              f"import site; list(map(site.addsitedir, {ours!r}))\n")
    shutil.copytree(HERE_CONFIG, venv / "etc" / "jupyter", symlinks=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(JUPYTER_CONFIG_DIR=str(root / "user_config"), JUPYTER_DATA_DIR=str(root / "user_data"),
               JUPYTER_RUNTIME_DIR=str(root / "runtime"), JUPYTER_PATH=str(HERE_DATA), PYTHONPATH="")
    yield python, env, root
    assert snapshot(HERE_CONFIG) == before, f"the tests changed {HERE_CONFIG}"


def run(throwaway, *args: str) -> str:
    python, env, root = throwaway
    done = subprocess.run([str(python), *args], env=env, cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return ANSI.sub("", done.stdout + done.stderr)


def role(throwaway, *args: str) -> str:
    return run(throwaway, "-m", "vlcourse.cli", "jupyter-role", *args)


def lab_disabled(listing: str) -> set[str]:
    """The plugins ``jupyter labextension list`` names under "Disabled extensions"."""
    _, _, tail = listing.partition("Disabled extensions:")
    return {line.strip().split()[0] for line in tail.splitlines() if line.strip().startswith("@")}


def server_states(listing: str, config_dir: Path) -> dict[str, bool]:
    """``jupyter server extension list``'s verdict per extension in ``config_dir``'s section."""
    section = listing.split(f"Config dir: {config_dir}\n", 1)[1].split("Config dir:", 1)[0]
    found = re.findall(r"^\s+(\S+) (enabled|disabled)$", section, flags=re.M)
    return {name: state == "enabled" for name, state in found}


def test_the_default_place_is_this_environment():
    from jupyter_core.paths import ENV_CONFIG_PATH

    assert environment_config_dir() == HERE_CONFIG == Path(ENV_CONFIG_PATH[0])


def test_student_role_switches_nbgrader_off_as_jupyter_lists_it(throwaway):
    python, _, _ = throwaway
    assert role(throwaway, "student").startswith("student: nbgrader's tools are off")
    assert set(LAB_PLUGINS) <= lab_disabled(run(throwaway, "-m", "jupyterlab.labextensions", "list"))
    states = server_states(run(throwaway, "-m", "jupyter_server.extension.serverextension", "list"),
                           python.parent.parent / "etc" / "jupyter")
    assert {name: states[name] for name in SERVER_EXTENSIONS} == dict.fromkeys(SERVER_EXTENSIONS, False)
    assert states["jupyterlab"]  # everything else is left as it was


def test_instructor_role_switches_them_back_on_and_setup_keeps_it(throwaway):
    python, _, _ = throwaway
    role(throwaway, "student")
    assert role(throwaway, "instructor").startswith("instructor: nbgrader's tools are on")
    assert not set(LAB_PLUGINS) & lab_disabled(run(throwaway, "-m", "jupyterlab.labextensions", "list"))
    states = server_states(run(throwaway, "-m", "jupyter_server.extension.serverextension", "list"),
                           python.parent.parent / "etc" / "jupyter")
    assert {name: states[name] for name in SERVER_EXTENSIONS} == dict.fromkeys(SERVER_EXTENSIONS, True)
    assert role(throwaway, "student", "--unless-set").startswith("instructor:")  # setup.sh run again


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    """Status and body of a GET that does not follow redirects (status 0: nothing listens there yet)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except urllib.error.URLError:  # not listening yet
        return 0, ""


def served_lab(throwaway) -> tuple[list[str], int]:
    """Start JupyterLab: the plugins its page tells the browser to skip, and the status of /formgrader."""
    python, env, root = throwaway
    port, token = free_port(), "role-test"
    command = [str(python), "-m", "jupyterlab", "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}"] + (["--allow-root"] if os.geteuid() == 0 else [])
    server = subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while fetch(f"{base}/api/status?token={token}")[0] != 200:
            assert server.poll() is None and time.monotonic() < deadline, "JupyterLab did not start"
            time.sleep(0.5)
        page = fetch(f"{base}/lab?token={token}")[1]
        config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                      page, flags=re.S).group(1))
        return config["disabledExtensions"], fetch(f"{base}/formgrader?token={token}")[0]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_running_jupyterlab_follows_the_role(throwaway):
    role(throwaway, "student")
    disabled, formgrader = served_lab(throwaway)
    assert set(LAB_PLUGINS) <= set(disabled) and formgrader == 404
    role(throwaway, "instructor")
    disabled, formgrader = served_lab(throwaway)
    assert not set(LAB_PLUGINS) & set(disabled) and formgrader != 404


def test_role_keeps_other_settings_and_reads_lists(tmp_path, capsys):
    labconfig = tmp_path / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": ["@other/ext"], "theme": "dark"}))
    assert current_role(tmp_path) is None
    assert main(["jupyter-role", "--config-dir", str(tmp_path)]) == 0
    assert "no role set" in capsys.readouterr().out
    apply_role("student", tmp_path)
    data = json.loads((labconfig / "page_config.json").read_text())
    assert data["theme"] == "dark" and data["disabledExtensions"]["@other/ext"] is True
    assert current_role(tmp_path) == "student"
    data["disabledExtensions"]["@jupyter/nbgrader:menu"] = False
    (labconfig / "page_config.json").write_text(json.dumps(data))
    assert current_role(tmp_path) == "custom"


@pytest.mark.parametrize("option", ["--teacher", "student"])
def test_setup_refuses_an_unknown_option_before_doing_anything(option, tmp_path):
    """``./setup.sh student`` (a forgotten ``--``) is one line and exit status 2, before any install."""
    setup = Path(vlcourse.__file__).parents[1] / "setup.sh"
    done = subprocess.run(["bash", str(setup), option], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == f"setup.sh: unknown option {option}; use --student (the default) or --instructor"
