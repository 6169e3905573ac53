"""Mutation testing of hidden suites (``vlcourse verify --mutants``): the operators, the generator, and a
whole run on the toy course with a survivor, an equivalent and a stale equivalents list."""

import shutil
import sys
from pathlib import Path

import libcst as cst
import pytest

from vlcourse.grading.authoring import mutant_operators as ops
from vlcourse.grading.authoring.assignment import list_assignments, load_assignment
from vlcourse.grading.authoring.mutants import generate_mutants, observable_key, solution_lines
from vlcourse.grading.authoring.mutation import read_equivalents
from vlcourse.grading.authoring.verify import verify_assignment

COURSE = Path(__file__).parent / "fixtures" / "course"


def mutated(operator, code: str, node_type, **kwargs) -> list[str]:
    """What ``operator`` makes of every ``node_type`` node of ``code``, as source."""
    module = cst.parse_module(code)
    found = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node):
            if isinstance(node, node_type):
                found.append(node)
            return True

    module.visit(Collect())
    return [module.deep_replace(node, new).code.strip() for node in found for new in operator(node, **kwargs)]


@pytest.mark.parametrize("operator, code, node_type, expected", [
    (ops.operator_dim, "y = x.sum(dim=1)", cst.Call, ["y = x.sum(dim=0)"]),
    (ops.operator_dim, "y = x.mean(dim=0)", cst.Call, ["y = x.mean(dim=-1)"]),
    (ops.operator_dim, "y = F.normalize(x, dim=-1)", cst.Call, ["y = F.normalize(x, dim=0)"]),
    (ops.operator_reduction, "y = x.sum(dim=1)", cst.Call, ["y = x.mean(dim=1)"]),
    (ops.operator_reduction, "y = x.argmax(-1)", cst.Call, ["y = x.argmin(-1)"]),
    (ops.operator_reduction, "y = z.std(dim=0)", cst.Call, ["y = z.std(dim=0, correction=0)"]),
    (ops.operator_drop_call, "y = F.normalize(x, dim=-1)", cst.Call, ["y = x"]),
    (ops.operator_drop_call, "y = x.detach()", cst.Call, ["y = x"]),
    (ops.operator_drop_call, "y = s.strip()", cst.Call, ["y = s"]),
    (ops.operator_dtype, "m = torch.ones(2, dtype=torch.float32)", cst.Attribute, ["m = torch.ones(2, dtype=torch.float64)"]),
    (ops.operator_dtype, "y = x.float()", cst.Call, ["y = x.double()"]),
    (ops.operator_sort_order, "r = sorted(a, key=f)", cst.Call, ["r = sorted(a, key=f, reverse=True)"]),
    (ops.operator_sort_order, "r = sorted(a, reverse=True)", cst.Call, ["r = sorted(a, reverse=False)", "r = sorted(a)"]),
    (ops.operator_sort_order, "i = torch.argsort(n, dim=1)", cst.Call, ["i = torch.argsort(n, dim=1, descending=True)"]),
    (ops.operator_train_mode, "m.eval()", cst.Call, ["m.train()"]),
    (ops.operator_regex_flag, "m = re.search(p, t, flags=re.I)", cst.Call, ["m = re.search(p, t)"]),
    (ops.operator_slice, "y = x[:k]", cst.Slice, ["y = x[:k + 1]", "y = x[:k - 1]"]),
    (ops.operator_slice, "y = x[1:]", cst.Slice, ["y = x[2:]", "y = x[:]"]),
    (ops.operator_slice, "y = x[:-1]", cst.Slice, ["y = x[:]", "y = x[:-2]"]),
    (ops.operator_remove_statement, "x = 1", cst.SimpleStatementLine, ["pass"]),
    (ops.operator_remove_statement, '"""doc"""', cst.SimpleStatementLine, []),
    (ops.operator_swap_args, "y = f(a, b, c)", cst.Call, ["y = f(b, a, c)", "y = f(a, c, b)"]),
    (ops.operator_swap_args, "y = f(a, a)", cst.Call, []),
])
def test_operators(operator, code, node_type, expected):
    assert mutated(operator, code, node_type) == expected


def test_in_place_only_on_the_functions_inputs():
    code = "a = a / n"
    assert mutated(ops.operator_in_place_assign, code, cst.Assign, inputs=frozenset({"a"})) == ["a /= n"]
    assert mutated(ops.operator_in_place_assign, code, cst.Assign, inputs=frozenset()) == []
    call = "y = x.masked_fill(m, 0)"
    assert mutated(ops.operator_in_place, call, cst.Call, inputs=frozenset({"x"})) == ["y = x.masked_fill_(m, 0)"]
    assert mutated(ops.operator_in_place, call, cst.Call, inputs=frozenset({"m"})) == []


def test_no_grad_dropped():
    code = "@torch.no_grad()\ndef f(x):\n    return x"
    assert mutated(ops.operator_no_grad, code, cst.FunctionDef) == ["def f(x):\n    return x"]
    code = "with torch.no_grad():\n    w += 1"
    assert mutated(ops.operator_no_grad, code, cst.With) == ["with torch.enable_grad():\n    w += 1"]


CELL = '''import math

def given(x):
    return x + 1

def norm_rows(a, scale=2.0):
    ### BEGIN SOLUTION
    if a.shape[0] == 0:
        raise ValueError("no rows")
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-8)
    b = torch.zeros(3, device=a.device)
    return a * scale
    ### END SOLUTION
'''


def test_only_solution_lines_are_mutated():
    first, last = solution_lines(CELL)[0]
    assert CELL.splitlines()[first - 2].strip() == "### BEGIN SOLUTION"
    mutants = generate_mutants("norm", CELL)
    assert len(mutants) > 20
    given = CELL.splitlines()[:first - 1]
    for mutant in mutants:
        assert mutant.source.splitlines()[:first - 1] == given, mutant.id
        assert first <= mutant.line <= last
        compile(mutant.source, mutant.id, "exec")


def test_no_mutant_of_what_no_test_can_observe():
    mutants = generate_mutants("norm", CELL)
    changed = [m.changed_line() for m in mutants]
    assert not any("device" not in line and "torch.zeros(3" in line for line in changed), "device argument dropped"
    assert not any("XXno rowsXX" in m.source or '"NO ROWS"' in m.source for m in mutants), "exception message mutated"
    assert any("raise" not in m.source for m in mutants), "the raise itself may be removed"
    assert any(line.startswith("if a.shape[0] != 0") for line in changed)


def test_mutants_are_distinct_and_stable():
    first, second = generate_mutants("norm", CELL), generate_mutants("norm", CELL)
    assert [m.id for m in first] == [m.id for m in second]
    keys = [observable_key(m.source) for m in first]
    assert len(set(keys)) == len(keys) and observable_key(CELL) not in keys
    assert all(m.id.startswith("norm:") for m in first)


def test_default_arguments_and_course_operators_are_in():
    operators = {m.operator for m in generate_mutants("norm", CELL)}
    assert {"mutmut:number", "mutmut:swap_op", "drop_call", "dim", "in_place", "remove_statement"} <= operators
    sources = [m.source for m in generate_mutants("norm", CELL)]
    assert not any("scale=3.0" in s for s in sources)  # the signature is given code, not the student's
    assert any("a /= a.norm(" in s for s in sources)  # the caller's tensor changed in place


def test_a_cell_that_is_not_python_is_a_clear_error():
    with pytest.raises(ValueError, match="not plain Python"):
        generate_mutants("magic", "%matplotlib inline\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION")


# --- a whole run on the toy course ---------------------------------------------------------------------

WEAK_SCALE_TEST = '''

@pytest.mark.grade(cell="scale", points=2, hint="Multiply every entry by k.")
def test_scale(student):
    """scale(x, k) multiplies by k"""
    x = torch.randn(4, dtype=torch.float64)
    assert_close(student.scale(x, K), K * x)
'''


def toy_course(tmp_path: Path, k: float) -> Path:
    """The toy course with ``test_scale`` at a chosen k (k = 1 cannot tell ``x * k`` from ``x / k``)."""
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    suite = course / "grader" / "00_toy" / "test_toy.py"
    text = suite.read_text()
    text = text[:text.index('\n\n@pytest.mark.grade(cell="scale"')] + WEAK_SCALE_TEST.replace("K", repr(k))
    suite.write_text(text)
    return course


def divide_mutant_id(assignment) -> str:
    from vlcourse.grading.authoring.mutation import graded_sources

    mutants = generate_mutants("scale", graded_sources(assignment)["scale"])
    return next(m.id for m in mutants if "x / k" in m.source)


def run_toy(course: Path, equivalents: str | None, tmp_path: Path):
    # pytest imports a hidden suite once per process under its module name: forget the last toy course's
    for name in [n for n in sys.modules if n.endswith("test_toy")]:
        del sys.modules[name]
    assignment = load_assignment("00_toy", course)
    if equivalents is not None:
        (assignment.grader_dir / "equivalent_mutants.toml").write_text(equivalents.replace("DIVIDE", divide_mutant_id(assignment)))
    lines = []
    checks = verify_assignment(assignment, log=lines.append, mutants=True, report=tmp_path / "report.html")
    errors = [c.detail for c in checks if c.name == "equivalent mutants list"]
    return {c.name: c for c in checks}, errors, "\n".join(lines)


def test_a_survivor_fails_verification_and_shows_its_diff(tmp_path):
    checks, errors, log = run_toy(toy_course(tmp_path, 1.0), None, tmp_path)
    assert not errors
    assert checks["mutants of add"].ok
    assert not checks["mutants of scale"].ok and "1 survived" in checks["mutants of scale"].detail
    assert "-    return x * k\n" in log + "\n" and "+    return x / k" in log
    page = (tmp_path / "report.html").read_text()
    assert "Survivors" in page and "return x / k" in page and "<img" in page


def test_listed_equivalent_counts_and_stale_entries_are_errors(tmp_path):
    listed = '[[mutant]]\nid = "DIVIDE"\nreason = "k is always 1 here"\n\n[[mutant]]\nid = "scale:00000000"\nreason = "gone"\n'
    checks, errors, _ = run_toy(toy_course(tmp_path, 1.0), listed, tmp_path)
    assert checks["mutants of scale"].ok and "1 equivalent" in checks["mutants of scale"].detail
    assert any("scale:00000000" in e and "no longer generated" in e for e in errors)
    assert any("more than 15%" in e for e in errors)  # 1 of 4 mutants is equivalent: too many


def test_a_listed_equivalent_that_a_test_kills_is_an_error(tmp_path):
    listed = '[[mutant]]\nid = "DIVIDE"\nreason = "wrongly listed"\n'
    checks, errors, _ = run_toy(toy_course(tmp_path, 3.0), listed, tmp_path)
    assert checks["mutants of scale"].ok
    assert any("kills it now" in e for e in errors)


def test_equivalents_need_a_reason(tmp_path):
    course = toy_course(tmp_path, 3.0)
    assignment = load_assignment("00_toy", course)
    (assignment.grader_dir / "equivalent_mutants.toml").write_text('[[mutant]]\nid = "scale:1"\n')
    listed, errors = read_equivalents(assignment)
    assert not listed and "reason" in errors[0]


@pytest.mark.parametrize("first, second", [
    ("y = x.transpose(1, 2)", "y = x.transpose(2, 1)"),
    ("y = min(a, len(b))", "y = min(len(b), a)"),
    ('m = s.masked_fill(k, float("-inf"))', 'm = s.masked_fill(k, float("-INF"))'),
    ("z = torch.cat([a, b], dim=0)", "z = torch.cat([a, b])"),
    ("v = torch.topk(s, 3, dim=-1)", "v = torch.topk(s, 3)"),
    ("m = causal_mask(T).to(x.device)", "m = causal_mask(T)"),
    ("z = torch.zeros(3, device=a.device)", "z = torch.zeros(3)"),
    ('raise ValueError(f"bad {k}")', 'raise ValueError("other words")'),
])
def test_spellings_no_test_can_tell_apart_are_one(first, second):
    assert observable_key(first) == observable_key(second)


@pytest.mark.parametrize("first, second", [
    ("y = x.sum(dim=1)", "y = x.sum(dim=0)"),
    ("y = f(a, b)", "y = f(b, a)"),
    ("z = torch.cat([a, b], dim=1)", "z = torch.cat([a, b])"),
    ("v = torch.topk(s, 3, largest=False)", "v = torch.topk(s, 3)"),
    ('raise ValueError("x")', 'raise TypeError("x")'),
    ('m = s.masked_fill(k, float("-inf"))', 'm = s.masked_fill(k, float("inf"))'),
])
def test_spellings_that_differ_stay_apart(first, second):
    assert observable_key(first) != observable_key(second)


def test_no_sign_flip_of_a_literal_dim():
    cell = "def f(q, k):\n    ### BEGIN SOLUTION\n    return q @ k.transpose(-2, -1) + q.sum(dim=-1, keepdim=True)\n    ### END SOLUTION\n"
    sources = [m.source for m in generate_mutants("f", cell)]
    assert not any("+2" in s or "+1" in s for s in sources)
    assert any("transpose(-3, -1)" in s for s in sources) and any("dim=0" in s for s in sources)


@pytest.mark.parametrize("name", list_assignments())
def test_every_listed_equivalent_is_still_generated(name):
    """The cheap half of the honesty check, on every assignment (grading the mutants is `verify --mutants`)."""
    from vlcourse.grading.authoring.mutation import MAX_EQUIVALENT_SHARE, all_mutants
    from vlcourse.grading.suite.plugin import collect_graded_tests

    assignment = load_assignment(name)
    listed, errors = read_equivalents(assignment)
    assert not errors
    mutants = all_mutants(assignment, collect_graded_tests(assignment.grader_dir))
    generated = {m.id for m in mutants}
    assert set(listed) <= generated, f"stale entries in equivalent_mutants.toml: {sorted(set(listed) - generated)}"
    assert len(listed) <= MAX_EQUIVALENT_SHARE * len(mutants)
