"""Mutation operators for graded cells that matter in deep learning and prompting code.

mutmut's operators (``mutmut.mutation.mutators``) change the general things: numbers, strings,
comparisons, arithmetic, boolean operators, ``True``/``False``, ``is``/``in``, arguments set to
``None`` or dropped. The operators here add the mistakes students of this course actually make,
each a function ``node -> iterable of mutated nodes`` over libcst nodes, as mutmut's are:

=====================  ========================================================================
``dim``                another reduction dim or axis (``dim=1`` -> ``dim=0``; ``dim=0`` -> ``dim=-1``)
``reduction``          a sibling reduction (``sum``/``mean``, ``max``/``min``, ``argmax``/``argmin``,
                       ``softmax``/``log_softmax``, ``tril``/``triu``, ``any``/``all``) or a biased std/var
``drop_call``          a dropped ``normalize``/``softmax``/``detach``/``strip``/``float``/... (the call
                       replaced by what it was applied to)
``in_place``           an in-place variant: ``x.add(y)`` -> ``x.add_(y)``, ``x = x / n`` -> ``x /= n``
                       (only on a function's own inputs, where it changes what the caller sees)
``dtype``              another dtype (``float32``/``float64``, ``long``/``int32``, ``bool``/``uint8``,
                       ``.float()``/``.double()``)
``sort_order``         a reversed sort (``reverse``, ``descending``, ``largest`` toggled or added)
``no_grad``            a dropped ``torch.no_grad()`` (decorator removed, or ``enable_grad`` in a ``with``)
``train_mode``         ``.eval()`` <-> ``.train()``
``regex_flag``         a dropped ``flags=`` argument of a ``re`` call
``slice``              an off-by-one slice bound (``x[:k]`` -> ``x[:k + 1]``, ``x[1:]`` -> ``x[:]``)
``remove_statement``   a statement replaced by ``pass``
``swap_args``          two neighbouring positional arguments swapped
=====================  ========================================================================
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

DIM_KEYWORDS = ("dim", "axis")
REDUCTION_SWAPS = {
    "sum": "mean", "mean": "sum", "max": "min", "min": "max", "amax": "amin", "amin": "amax",
    "argmax": "argmin", "argmin": "argmax", "softmax": "log_softmax", "log_softmax": "softmax",
    "tril": "triu", "triu": "tril", "any": "all", "all": "any", "logsumexp": "sum", "prod": "sum",
}
BIASED = ("std", "var")
DROPPABLE = {
    "normalize", "softmax", "log_softmax", "detach", "clone", "contiguous", "float", "double", "strip",
    "rstrip", "lstrip", "lower", "casefold", "clamp_min", "clamp", "tanh", "relu", "gelu", "exp", "log",
    "sqrt", "abs", "escape", "sorted", "reversed", "list", "tuple", "set", "int", "expand", "expand_as",
    "unsqueeze", "squeeze", "tril", "triu", "t", "mean", "sum", "item", "dropout", "norm",
}
IN_PLACE = {
    "add", "sub", "mul", "div", "masked_fill", "clamp", "clamp_min", "clamp_max", "exp", "log", "neg",
    "abs", "sqrt", "fill", "zero", "pow", "tanh", "relu", "normal", "uniform", "copy", "scatter", "index_fill",
}
DTYPE_SWAPS = {"float32": "float64", "float": "float64", "float64": "float32", "double": "float32",
               "long": "int32", "int64": "int32", "bool": "uint8", "float16": "float32", "half": "float32"}
DTYPE_METHOD_SWAPS = {"float": "double", "double": "float", "long": "int", "bool": "int", "half": "float"}
SORT_KEYWORDS = {"sorted": "reverse", "sort": None, "argsort": "descending", "topk": "largest"}
NO_GRAD = ("no_grad", "inference_mode")


def _callee_name(call: cst.Call) -> str | None:
    """``f`` for ``f(...)``, ``m`` for ``x.m(...)`` (and ``torch.nn.functional.m(...)``)."""
    if isinstance(call.func, cst.Name):
        return call.func.value
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value
    return None


def _int_literal(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) and isinstance(node.expression, cst.Integer):
        return -int(node.expression.value)
    return None


def _int_node(value: int) -> cst.BaseExpression:
    return cst.Integer(str(value)) if value >= 0 else cst.UnaryOperation(cst.Minus(), cst.Integer(str(-value)))


def _keyword(call: cst.Call, name: str) -> int | None:
    return next((i for i, a in enumerate(call.args) if a.keyword is not None and a.keyword.value == name), None)


def _with_arg(call: cst.Call, index: int, arg: cst.Arg | None) -> cst.Call:
    args = list(call.args)
    if arg is None:
        del args[index]
        if args:  # no dangling comma after the new last argument
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    else:
        args[index] = arg
    return call.with_changes(args=args)


def _add_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    args = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in call.args]
    tight = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    return call.with_changes(args=[*args, cst.Arg(value, keyword=cst.Name(name), equal=tight)])


def _renamed(call: cst.Call, name: str) -> cst.Call:
    if isinstance(call.func, cst.Name):
        return call.with_changes(func=call.func.with_changes(value=name))
    return call.with_changes(func=call.func.with_changes(attr=cst.Name(name)))


def operator_dim(node: cst.Call) -> Iterable[cst.Call]:
    """Another dim: a literal ``dim=``/``axis=`` becomes 0, or -1 where it was 0 (mutmut adds the +1)."""
    for name in DIM_KEYWORDS:
        index = _keyword(node, name)
        if index is not None and (value := _int_literal(node.args[index].value)) is not None:
            other = -1 if value == 0 else 0
            yield _with_arg(node, index, node.args[index].with_changes(value=_int_node(other)))


def operator_reduction(node: cst.Call) -> Iterable[cst.Call]:
    """A sibling reduction, or ``std``/``var`` made biased (``correction=0``)."""
    name = _callee_name(node)
    if name in REDUCTION_SWAPS and isinstance(node.func, cst.Attribute):
        yield _renamed(node, REDUCTION_SWAPS[name])
    if name in BIASED and _keyword(node, "correction") is None and _keyword(node, "unbiased") is None:
        yield _add_keyword(node, "correction", cst.Integer("0"))


def operator_drop_call(node: cst.Call) -> Iterable[cst.BaseExpression]:
    """The call replaced by its receiver (``x.detach()`` -> ``x``) or its first argument (``F.normalize(x)`` -> ``x``)."""
    name = _callee_name(node)
    if name not in DROPPABLE:
        return
    if isinstance(node.func, cst.Attribute) and not _is_module_path(node.func.value):
        yield node.func.value
    elif node.args and node.args[0].keyword is None and node.args[0].star == "":
        yield node.args[0].value


def _is_module_path(node: cst.BaseExpression) -> bool:
    """``F``, ``torch``, ``torch.nn.functional``, ``re``, ``math``: a module, not a value the call acts on."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name) and node.value in {"torch", "F", "nn", "re", "math", "np", "functional"}


def operator_in_place(node: cst.Call, inputs: frozenset[str] = frozenset()) -> Iterable[cst.Call]:
    """``x.op(...)`` -> ``x.op_(...)`` where ``x`` is one of the function's inputs."""
    if (isinstance(node.func, cst.Attribute) and node.func.attr.value in IN_PLACE
            and isinstance(node.func.value, cst.Name) and node.func.value.value in inputs):
        yield _renamed(node, node.func.attr.value + "_")


AUG_OPERATORS = {cst.Add: cst.AddAssign, cst.Subtract: cst.SubtractAssign, cst.Multiply: cst.MultiplyAssign,
                 cst.Divide: cst.DivideAssign, cst.Power: cst.PowerAssign}


def operator_in_place_assign(node: cst.Assign, inputs: frozenset[str] = frozenset()) -> Iterable[cst.AugAssign]:
    """``x = x / n`` -> ``x /= n`` where ``x`` is one of the function's inputs (the caller's tensor changes)."""
    if len(node.targets) != 1 or not isinstance(target := node.targets[0].target, cst.Name) or target.value not in inputs:
        return
    value = node.value
    if (isinstance(value, cst.BinaryOperation) and type(value.operator) in AUG_OPERATORS
            and isinstance(value.left, cst.Name) and value.left.value == target.value and not value.left.lpar):
        yield cst.AugAssign(target, AUG_OPERATORS[type(value.operator)](), value.right, node.semicolon)


def operator_dtype(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """``torch.float32`` -> ``torch.float64`` and the like; ``.float()`` -> ``.double()``."""
    if (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "torch"
            and node.attr.value in DTYPE_SWAPS):
        yield node.with_changes(attr=cst.Name(DTYPE_SWAPS[node.attr.value]))
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not node.args:
        name = node.func.attr.value
        if name in DTYPE_METHOD_SWAPS:
            yield _renamed(node, DTYPE_METHOD_SWAPS[name])


def operator_sort_order(node: cst.Call) -> Iterable[cst.Call]:
    """A reversed sort: ``reverse``/``descending`` toggled (added as True where absent); ``topk(largest=False)``."""
    name = _callee_name(node)
    if name not in SORT_KEYWORDS:
        return
    keyword = SORT_KEYWORDS[name]
    if name == "sort":  # list.sort(key=..., reverse=...) or tensor.sort(dim, descending=...)
        keyword = "reverse" if _keyword(node, "key") is not None or _keyword(node, "reverse") is not None else "descending"
    index = _keyword(node, keyword)
    if index is None:
        yield _add_keyword(node, keyword, cst.Name("False" if keyword == "largest" else "True"))
        return
    value = node.args[index].value
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        flipped = "False" if value.value == "True" else "True"
        yield _with_arg(node, index, node.args[index].with_changes(value=cst.Name(flipped)))
    yield _with_arg(node, index, None)


def _is_no_grad(node: cst.BaseExpression) -> bool:
    call = node if isinstance(node, cst.Call) else None
    target = call.func if call is not None else node
    return isinstance(target, (cst.Attribute, cst.Name)) and (
        target.attr.value if isinstance(target, cst.Attribute) else target.value) in NO_GRAD


def operator_no_grad(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """``@torch.no_grad()`` removed; ``with torch.no_grad():`` -> ``with torch.enable_grad():``."""
    if isinstance(node, cst.FunctionDef):
        for i, decorator in enumerate(node.decorators):
            if _is_no_grad(decorator.decorator):
                yield node.with_changes(decorators=[*node.decorators[:i], *node.decorators[i + 1:]])
    if isinstance(node, cst.With):
        for i, item in enumerate(node.items):
            if _is_no_grad(item.item):
                enable = cst.parse_expression("torch.enable_grad()")
                yield node.with_changes(items=[*node.items[:i], item.with_changes(item=enable), *node.items[i + 1:]])


def operator_train_mode(node: cst.Call) -> Iterable[cst.Call]:
    """``.eval()`` <-> ``.train()``."""
    if isinstance(node.func, cst.Attribute) and not node.args and node.func.attr.value in ("eval", "train"):
        yield _renamed(node, "train" if node.func.attr.value == "eval" else "eval")


def operator_regex_flag(node: cst.Call) -> Iterable[cst.Call]:
    """A ``re`` call without its ``flags=``."""
    if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name) and node.func.value.value == "re":
        index = _keyword(node, "flags")
        if index is not None:
            yield _with_arg(node, index, None)


def _shifted(expr: cst.BaseExpression, delta: int) -> cst.BaseExpression:
    value = _int_literal(expr)
    if value is not None:
        return _int_node(value + delta)
    operator = cst.Add() if delta > 0 else cst.Subtract()
    return cst.BinaryOperation(expr, operator, cst.Integer(str(abs(delta))))


def operator_slice(node: cst.Slice) -> Iterable[cst.Slice]:
    """An off-by-one bound: each given bound moved by one either way; a lower bound of 1 dropped."""
    for field in ("lower", "upper"):
        bound = getattr(node, field)
        if bound is None:
            continue
        for delta in (1, -1):
            shifted = _shifted(bound, delta)
            if field == "lower" and _int_literal(shifted) == 0:
                yield node.with_changes(lower=None)
            elif field == "upper" and _int_literal(bound) is not None and _int_literal(bound) < 0 and _int_literal(shifted) == 0:
                yield node.with_changes(upper=None)  # x[:-1] -> x[:], not the empty x[:0]
            else:
                yield node.with_changes(**{field: shifted})


def operator_remove_statement(node: cst.SimpleStatementLine) -> Iterable[cst.SimpleStatementLine]:
    """The statement replaced by ``pass`` (docstrings and ``pass`` itself excepted)."""
    if len(node.body) == 1 and isinstance(node.body[0], cst.Pass):
        return
    if len(node.body) == 1 and isinstance(node.body[0], cst.Expr) and isinstance(node.body[0].value, cst.BaseString):
        return
    yield node.with_changes(body=[cst.Pass()])


def operator_swap_args(node: cst.Call) -> Iterable[cst.Call]:
    """Two neighbouring positional arguments swapped (of a call symmetric in them, such as ``transpose``, the
    generator drops the mutant: see :func:`vlcourse.grading.authoring.mutants.observable_key`)."""
    positional = [i for i, a in enumerate(node.args) if a.keyword is None and a.star == ""]
    for first, second in zip(positional, positional[1:]):
        if second != first + 1:
            continue
        a, b = node.args[first], node.args[second]
        if cst.Module([]).code_for_node(a.value) == cst.Module([]).code_for_node(b.value):
            continue
        args = list(node.args)
        args[first], args[second] = a.with_changes(value=b.value), b.with_changes(value=a.value)
        yield node.with_changes(args=args)


# (node type, name, operator); operators taking ``inputs`` get the enclosing function's parameter names.
OPERATORS = [
    (cst.Call, "dim", operator_dim),
    (cst.Call, "reduction", operator_reduction),
    (cst.Call, "drop_call", operator_drop_call),
    (cst.Call, "in_place", operator_in_place),
    (cst.Assign, "in_place", operator_in_place_assign),
    (cst.CSTNode, "dtype", operator_dtype),
    (cst.Call, "sort_order", operator_sort_order),
    (cst.CSTNode, "no_grad", operator_no_grad),
    (cst.Call, "train_mode", operator_train_mode),
    (cst.Call, "regex_flag", operator_regex_flag),
    (cst.Slice, "slice", operator_slice),
    (cst.SimpleStatementLine, "remove_statement", operator_remove_statement),
    (cst.Call, "swap_args", operator_swap_args),
]
TAKES_INPUTS = {operator_in_place, operator_in_place_assign}
