"""Shared test configuration: how the suite splits over pytest-xdist's two workers.

The README's test command runs ``pytest -n 2 --dist loadgroup`` (``pyproject.toml``). Every test module
stays on one worker (its module fixtures are built once, and some modules are steps of one story, such
as ``test_new_assignment.py``), except the modules listed in :data:`SPLIT`, whose tests are independent
and each long (one hidden suite's verification each): they are spread over both workers.
"""

import pytest

SPLIT = {"test_verify_and_build.py"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.path.name
        group = item.nodeid if module in SPLIT else module
        item.add_marker(pytest.mark.xdist_group(group))
