"""A student's JupyterLab or an instructor's: which of nbgrader's Jupyter tools it shows.

Installing nbgrader switches on all of its JupyterLab plugins (the Nbgrader menu, formgrader, the
course list, the "Create Assignment" sidebar, the assignment list, the Validate button) and their
server extensions, for everyone who starts JupyterLab from the environment. nbgrader's installation
guide turns them off one by one with ``jupyter labextension disable`` and ``jupyter server extension
disable``; a role does the same for all of them at once, with the same files those commands write:

* ``labconfig/page_config.json``: ``disabledExtensions`` (and ``lockedExtensions``, so JupyterLab's
  plugin manager cannot switch a student's back on) for each plugin;
* ``jupyter_server_config.d/<extension>.json``: ``jpserver_extensions`` for each server extension.
  These files are read after nbgrader's own ``nbgrader.json`` in the same folder, so they win.

By default they go into the environment's own config folder (``<sys.prefix>/etc/jupyter``, the
``--sys-prefix`` level), so nothing in the user's home changes; in a virtual environment Jupyter
reads this level before the user's own. Students get none of nbgrader's tools: they hand in through
the LMS, not nbgrader's exchange, and Validate would run every training cell under nbgrader's
30-second cell limit while knowing none of the hidden tests. (A course that does use the exchange
turns the assignment list back on as nbgrader's guide shows.) Instructors and TAs get all of them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vlcourse.usererrors import UserError

LAB_PLUGINS = {  # nbgrader 0.9's JupyterLab plugins: what each one shows
    "@jupyter/nbgrader:menu": "the Nbgrader menu",
    "@jupyter/nbgrader:formgrader": "formgrader",
    "@jupyter/nbgrader:course-list": "the course list",
    "@jupyter/nbgrader:create-assignment": "the Create Assignment sidebar",
    "@jupyter/nbgrader:assignment-list": "the assignment list",
    "@jupyter/nbgrader:validate-assignment": "the Validate button",
}
SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.validate_assignment",
)
ROLES = {"student": False, "instructor": True}  # role -> nbgrader's tools switched on


def environment_config_dir() -> Path:
    """The running environment's Jupyter config folder (the ``--sys-prefix`` level)."""
    return Path(sys.prefix) / "etc" / "jupyter"


def page_config(config_dir: Path):
    """JupyterLab's page config manager for ``config_dir`` (``labconfig/page_config.json``)."""
    from jupyter_server.config_manager import BaseJSONConfigManager

    return BaseJSONConfigManager(config_dir=str(config_dir / "labconfig"))


def as_flags(value) -> dict[str, bool]:
    """A ``disabledExtensions``-style setting as a mapping (JupyterLab also accepts a list of names)."""
    return dict.fromkeys(value, True) if isinstance(value, list) else dict(value or {})


def set_lab_plugins(config_dir: Path, enabled: bool) -> Path:
    """Switch nbgrader's JupyterLab plugins on or off in ``config_dir``; other settings are kept."""
    flags = dict.fromkeys(LAB_PLUGINS, not enabled)
    manager = page_config(config_dir)
    data = manager.get("page_config")
    for key in ("disabledExtensions", "lockedExtensions"):
        data[key] = {**as_flags(data.get(key)), **flags}
    manager.set("page_config", data)
    return Path(manager.file_name("page_config"))


def set_server_extensions(config_dir: Path, enabled: bool) -> list[Path]:
    """Switch nbgrader's server extensions on or off in ``config_dir``, as ``jupyter server extension`` does."""
    from jupyter_server.extension.config import ExtensionConfigManager

    folder = config_dir / "jupyter_server_config.d"
    manager = ExtensionConfigManager(read_config_path=[str(config_dir)], write_config_dir=str(folder))
    for name in SERVER_EXTENSIONS:
        if enabled:
            manager.enable(name)
        else:
            manager.disable(name)
    return [folder / f"{name}.json" for name in SERVER_EXTENSIONS]


def apply_role(role: str, config_dir: Path | None = None) -> list[Path]:
    """Give the JupyterLab of this environment (or of ``config_dir``) a student's or an instructor's tools.

    Returns the files written.
    """
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    config_dir = config_dir or environment_config_dir()
    try:
        return [set_lab_plugins(config_dir, ROLES[role]), *set_server_extensions(config_dir, ROLES[role])]
    except OSError as exc:
        raise UserError(f"cannot write Jupyter's settings in {config_dir} ({exc.strerror or exc}); run this as the "
                        "environment's owner, or choose a writable --config-dir") from None


def current_role(config_dir: Path | None = None) -> str | None:
    """``student`` or ``instructor`` as last applied in ``config_dir``, ``custom`` where the plugins
    were set some other way, ``None`` where they were never set (nbgrader's default: all shown)."""
    data = page_config(config_dir or environment_config_dir()).get("page_config")
    disabled = as_flags(data.get("disabledExtensions"))
    states = {disabled.get(plugin) for plugin in LAB_PLUGINS}
    if states == {None}:
        return None
    return {frozenset({True}): "student", frozenset({False}): "instructor"}.get(frozenset(states), "custom")


def describe(role: str | None, config_dir: Path) -> str:
    """One line for the terminal: the role and what it means for JupyterLab."""
    tools = ", ".join(LAB_PLUGINS.values())
    if role == "student":
        return f"student: nbgrader's tools are off in this JupyterLab ({tools}); settings in {config_dir}"
    if role == "instructor":
        return f"instructor: nbgrader's tools are on in this JupyterLab ({tools}); settings in {config_dir}"
    if role == "custom":
        return f"custom: nbgrader's tools were switched on and off one by one in {config_dir}"
    return f"no role set in {config_dir}: JupyterLab shows all of nbgrader's tools (nbgrader's default)"
