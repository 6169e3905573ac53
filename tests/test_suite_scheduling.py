"""The xdist work units of ``conftest.py``: long units named correctly, conflicting modules kept apart in time."""

from pathlib import Path

from conftest import LONG_FIRST, SPLIT, TOGETHER, longest_first, work_unit

TESTS = Path(__file__).parent


def test_every_named_module_exists():
    for nodeid in [*LONG_FIRST, *SPLIT, *TOGETHER, *TOGETHER.values()]:
        assert (TESTS.parent / nodeid.split("::", 1)[0]).is_file(), nodeid


def test_modules_that_plant_in_the_package_and_check_it_share_a_unit():
    a = work_unit("tests/test_redteam.py::test_package_files_unchanged")
    b = work_unit("tests/test_withheld_unreachable.py::test_nothing_withheld_is_readable_from_an_editable_install")
    assert a == b


def test_split_modules_give_each_test_its_own_unit_and_others_share_their_module():
    one = "tests/test_notebooks.py::test_solution_notebook_runs_end_to_end[02_gpt]"
    assert work_unit(one) == one
    assert work_unit("tests/test_shapes.py::test_x") == work_unit("tests/test_shapes.py::test_y") == "tests/test_shapes.py"


def test_no_unit_is_listed_twice_and_long_units_come_first_in_their_order():
    assert len(set(LONG_FIRST)) == len(LONG_FIRST)
    assert all(work_unit(unit) == unit for unit in LONG_FIRST), "a LONG_FIRST entry is not a unit of its own"
    units = ["tests/test_shapes.py", LONG_FIRST[2], "tests/test_cli.py", LONG_FIRST[0]]
    assert longest_first(units) == [LONG_FIRST[0], LONG_FIRST[2], "tests/test_shapes.py", "tests/test_cli.py"]
