"""Hidden tests of assignment 06 (in-context learning, chain of thought, GPT + X). Run by `vlcourse grade`.

Every expected value is computed on this (trusted) side with the reference in vlcourse.icl. The
student's functions run in their own process and reach the course's LLM endpoint on the Unix socket
the grader binds into the sandbox (``llm = true``); the reference asks an endpoint of its own serving
the same checkpoints, at temperature 0 (or with the same seeds), so both get the same answers. To see
exactly which requests a function sends, and to hand it messy answers on purpose, tests also give it a
real ``openai.OpenAI`` client whose transport is scripted (:class:`vlcourse.icl.probes.ScriptedEndpoint`).

Within a cell the cheap tests (scripted endpoint, plain data) come first and the ones that ask the
endpoint last. The reference's endpoint is started once per grading process and its answers are
cached: they are the same for every submission.
"""

import atexit
import functools
import math
import random

import pytest
import torch

from vlcourse.icl import data
from vlcourse.icl import descriptors as ref_descriptors
from vlcourse.icl import evaluation as ref_evaluation
from vlcourse.icl import prompting as ref_prompting
from vlcourse.icl import reasoning as ref_reasoning
from vlcourse.icl import socratic as ref_socratic
from vlcourse.icl.probes import ScriptedEndpoint, table_encoder
from vlcourse.grading.suite.tolerances import assert_close
from vlcourse.llm import LLMConfig, LocalEndpoint, make_client

grade = pytest.mark.grade
PROBES = "vlcourse.icl.probes."
CALL_AND_ARGUMENTS = PROBES + "call_and_arguments"
TEMPLATE = "{input} -> {label}"
MODEL = "icl-tiny"


# --- shared ----------------------------------------------------------------------------------------------
@functools.cache
def ref_client():
    """The reference's own client, on an endpoint of its own (same checkpoints as the sandbox's), started
    once per grading process (it ends with the process)."""
    endpoint = LocalEndpoint().wait()
    atexit.register(endpoint.close)
    return make_client(LLMConfig(socket=endpoint.socket, max_retries=0))


def student_client(student):
    """An ``openai.OpenAI`` client inside the runner, on the grader's endpoint (VLCOURSE_LLM_SOCKET)."""
    return student.lib("vlcourse.llm.make_client").keep()


def scripted(student, texts, **kwargs):
    """A scripted endpoint inside the runner and a client on it: ``(endpoint handle, client handle)``."""
    endpoint = student.lib(PROBES + "ScriptedEndpoint").keep(list(texts), **kwargs)
    return endpoint, endpoint.client.keep()


def sent_prompts(requests) -> list[str]:
    """Every prompt of the recorded requests, a list prompt flattened."""
    out = []
    for r in requests:
        out += r["prompt"] if isinstance(r.get("prompt"), list) else [r.get("prompt")]
    return out


def episodes(n, shots, kind, seed):
    return [{k: v for k, v in e.items() if k in ("examples", "query", "answer", "labels")}
            for e in data.icl_episodes(n, shots, kind, seed)]


# --- build_few_shot_prompt (2 points) ----------------------------------------------------------------------
PROMPT_CASES = [
    ([["red circle", "dax"], ["blue star", "wug"]], "red star", TEMPLATE),
    ([], "red star", TEMPLATE),
    ([["a", "b"], ["c", "d"], ["e", "f"]], "g", "Q: {input}\nA: {label}"),
    ([["3+8+6+2", "3+8=11, 11+6=17, 17+2=19"]], "1+2+3+4", "{input}: {label}"),
    ([["1+1", "2"]], "2+2", "{input}={label}"),
    ([["great film", "positive"], ["dull", "negative"]], "not bad", "Review: {input}\nSentiment: {label}"),
    ([["x", "y"]], "z", "{label} <- {input}"),
    ([["tab\there", "ok"]], "  spaced  ", "{input} -> {label}   "),
]
# Templates with escaped braces, tabs and newlines; inputs and labels that look like format fields or carry
# spaces of their own (str.format fills them in as they are).
FORMAT_CASES = [
    ([["red circle", "dax"], ["blue star", "wug"]], "red star", "{{{input}}} -> {label}"),
    ([["red circle", "dax"], ["blue star", "wug"]], "red star", "{input}\t{label}"),
    ([["a", "b"], ["c", "d"]], "e", "Q: {input}\nA: {label}\n"),
    ([["x", "y"]], "z", "{label}\n{input}\n\n"),
    ([["{label} circle", "{input}"], ["{0} star", "{}"], ["{{x}}", "}{"]], "{label}", TEMPLATE),
    ([[" red circle ", " dax "], ["blue star  ", "\twug"]], "  red star\t", TEMPLATE),
    ([["red circle", "dax"]], "blue star", "in: {input} | out: {label} {{done}}"),
]


@grade(cell="few_shot_prompt", points=0.75, hint="Each example is template.format(input=x, label=y) followed by '\\n', in the given order; then the query line.")
def test_prompt_exact_strings(student):
    """the exact prompt string for given examples, query and template (several templates, k = 0 to 3)"""
    for examples, query, template in PROMPT_CASES:
        expected = ref_prompting.build_few_shot_prompt(examples, query, template)
        got = student.build_few_shot_prompt(examples, query, template)
        assert got == expected, f"prompt for {len(examples)} examples, template {template!r}: got {got!r}"


@grade(cell="few_shot_prompt", points=0.5, hint="Fill the template with str.format (escaped braces {{ }} and fields inside the examples stay as format makes them), keep the examples' own spaces, and remove every kind of trailing whitespace (tabs, newlines) from the query line only.")
def test_templates_with_braces_tabs_and_spaces(student):
    """templates with escaped braces, tabs and newlines; inputs that look like format fields or carry spaces"""
    for examples, query, template in FORMAT_CASES:
        expected = ref_prompting.build_few_shot_prompt(examples, query, template)
        got = student.build_few_shot_prompt(examples, query, template)
        assert got == expected, f"examples {examples!r}, query {query!r}, template {template!r}: got {got!r}"


@grade(cell="few_shot_prompt", points=0.5, hint="The prompt must match the format icl-tiny was trained on: 'red circle -> dax\\n' per example, then 'red star ->'.")
def test_prompt_is_the_training_format(student):
    """on random episodes with 0 to 8 examples, the prompt equals the format the model was trained on"""
    for i, episode in enumerate(episodes(12, 8, None, seed=41)):
        k = i % 9
        expected = ref_prompting.build_few_shot_prompt(episode["examples"][:k], episode["query"], TEMPLATE)
        assert student.build_few_shot_prompt(episode["examples"][:k], episode["query"], TEMPLATE) == expected, f"k={k}"


@grade(cell="few_shot_prompt", points=0.25, hint="The query line is the template with an empty label, trailing whitespace removed; do not change the examples list.")
def test_query_line_and_inputs_unchanged(student):
    """the query line has no trailing space; the examples are not modified"""
    examples = [["red circle", "dax"], ["blue star", "wug"]]
    value, args = student.lib(CALL_AND_ARGUMENTS)(student.ref("build_few_shot_prompt"), [examples, "red star", TEMPLATE], {}, [0])
    assert value == "red circle -> dax\nblue star -> wug\nred star ->", f"got {value!r}"
    assert [list(e) for e in args[0]] == examples, "the examples were modified"


# --- parse_answer (2 points) --------------------------------------------------------------------------------
LABELS = ["dax", "wug", "blicket", "toma", "Fep"]
CLEAN = [" dax", " dax\n", "wug", " blicket", "toma", " fep"]
MESSY = ["The answer is: Blicket.", "**WUG**", "(dax)", "wugs", "tomato", "daxwug", " toma-dax", "answer: FEP!",
         "wug, or maybe dax", "I think dax... no, blicket", "", "   \n", "dax_", "1dax", "blicket2", "'toma'",
         "Dax Dax wug", "the fep is a dax"]


@grade(cell="parse_answer", points=0.25, hint="A completion like ' dax\\n' names the label 'dax': strip nothing by hand, search for the label as a word.")
def test_clean_answers(student):
    """clean completions (a leading space, a newline, another case) give their label"""
    for text in CLEAN:
        assert student.parse_answer(text, LABELS) == ref_prompting.parse_answer(text, LABELS), repr(text)


@grade(cell="parse_answer", points=0.75, hint="Whole words only, case-insensitive, the label that occurs first in the text (not the first of the label list); None if none occurs.")
def test_messy_answers(student):
    """messy completions: punctuation and markdown around the label, case, whole words only, the first label in the text, None"""
    for text in MESSY:
        expected = ref_prompting.parse_answer(text, LABELS)
        got = student.parse_answer(text, LABELS)
        assert got == expected, f"parse_answer({text!r}) gave {got!r}"


@grade(cell="parse_answer", points=0.5, hint="When two labels start at the same place ('red' and 'red circle') the longer one wins, whatever their order in labels; return the label as spelt in labels.")
def test_overlapping_labels_and_random_texts(student):
    """overlapping labels (the longer one at the same place, in either order of the list), labels returned as spelt, random texts as the reference"""
    texts = ["a red circle", "RED CIRCLE!", "circle red", "redcircle", "a red  circle", "blue-red circle", "red circles"]
    for labels in (["red", "red circle", "Circle", "blue"], ["Circle", "red circle", "blue", "red"]):
        for text in texts:
            assert student.parse_answer(text, labels) == ref_prompting.parse_answer(text, labels), f"{text!r} with labels {labels}"
    rng = random.Random(3)
    pieces = ["dax", "wug", "Toma", "fep", " ", " ", ".", "s", "*", "\n", "-", "x", "1"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 7))) for _ in range(60)]
    got = [student.parse_answer(t, LABELS) for t in texts]
    assert got == [ref_prompting.parse_answer(t, LABELS) for t in texts]


SPECIAL_LABELS = ["c++", "a.b", "x*", "(y)", "n/a"]
SPECIAL_TEXTS = ["I'd say C++.", "a.b", "axb", "x", "xx*", "answer: x* then (y)", "(Y)!", "y", "N/A", "nza", "c+++"]


@grade(cell="parse_answer", points=0.5, hint="A label is matched as the literal text it is (re.escape it: '.', '+', '*' and '(' are not patterns), and do not modify the labels list.")
def test_labels_with_special_characters_and_inputs_unchanged(student):
    """labels with characters that mean something in a regular expression; the labels are not modified"""
    for text in SPECIAL_TEXTS:
        expected = ref_prompting.parse_answer(text, SPECIAL_LABELS)
        got = student.parse_answer(text, SPECIAL_LABELS)
        assert got == expected, f"parse_answer({text!r}, {SPECIAL_LABELS}) gave {got!r}"
    labels = ["red", "wug", "red circle", "Dax"]
    value, (after,) = student.lib(CALL_AND_ARGUMENTS)(student.ref("parse_answer"), ["a RED circle, a dax", labels], {}, [1])
    assert value == "red circle", f"got {value!r}"
    assert after == labels, "the labels were modified"


# --- score_labels (2 points) --------------------------------------------------------------------------------
def score_cases():
    cases = []
    for i, episode in enumerate(episodes(4, 4, None, seed=7)):
        cases.append((ref_prompting.build_few_shot_prompt(episode["examples"][: i + 1], episode["query"], TEMPLATE),
                      episode["labels"]))
    cases.append(("red circle -> dax\nblue star ->", ["dax", "red circle", "zz"]))  # two tokens, characters
    cases.append(("green square ->", ["green"]))
    return cases


@functools.cache
def ref_scores(prompt, labels):
    return ref_evaluation.score_labels(ref_client(), prompt, list(labels), MODEL)


@grade(cell="score_labels", points=1.5, hint="Sum the log-probabilities of the tokens of ' ' + label that start at or after len(prompt); every label after the same prompt, with its leading space.")
def test_scores_equal_the_reference(student):
    """the log-likelihood of ' ' + label after the prompt, for every label (one- and multi-token labels), against the endpoint"""
    client = student_client(student)
    for prompt, labels in score_cases():
        expected = ref_scores(prompt, tuple(labels))
        got = student.score_labels(client, prompt, labels, model=MODEL)
        assert isinstance(got, list) and len(got) == len(labels), f"expected a list of {len(labels)} floats"
        assert_close(torch.tensor(got, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64), "float32",
                     what=f"scores of {labels}")


@grade(cell="score_labels", points=0.5, hint="Return the scores in the order of labels; the prompt and the labels list stay unchanged.")
def test_scores_keep_label_order(student):
    """the scores follow the order of the labels; the labels are not modified"""
    client = student_client(student)
    prompt = "red circle -> dax\nblue star -> wug\nred star ->"
    labels = ["wug", "toma", "dax", "blicket"]
    value, (after,) = student.lib(CALL_AND_ARGUMENTS)(student.ref("score_labels"), [client, prompt, labels], {"model": MODEL}, [2])
    expected = ref_scores(prompt, tuple(labels))
    assert_close(torch.tensor(value, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64), "float32")
    assert after == labels, "the labels were modified"


# --- evaluate_icl (3 points) --------------------------------------------------------------------------------
def close_accuracy(got, expected, n, what):
    """Equal, up to one episode (a greedy near-tie may break differently on another endpoint process)."""
    assert isinstance(got, float), f"{what}: expected a float, got {type(got).__name__}"
    assert abs(got - expected) <= 1.0 / n + 1e-9, f"{what}: accuracy {got:.3f}"


@grade(cell="evaluate_icl", points=0.75, hint="Send exactly the prompt build_few_shot_prompt gives for the first k examples (never the query's answer), temperature 0, max_tokens=5, stop at '\\n'.")
def test_prompts_sent_and_messy_answers(student):
    """the requests sent: one prompt per episode, the first k examples, the query's answer never leaked, temperature 0, max_tokens 5, stop at the newline; messy answers parsed"""
    eps = episodes(6, 5, "nonsense", seed=9)
    texts = [" Dax.", " **wug**", " blicket and dax", "", " TOMA!", " fep"]
    for k in (0, 1, 3, 5):
        endpoint, client = scripted(student, texts)
        got = student.evaluate_icl(client, eps, k, model=MODEL)
        reference = ScriptedEndpoint(texts)
        expected = ref_evaluation.evaluate_icl(reference.client(), eps, k, MODEL)
        requests = endpoint.requests()
        assert sent_prompts(requests) == sent_prompts(reference.requests()), f"the prompts sent for k={k} differ"
        for r in requests:
            assert r.get("temperature") == 0, "generate at temperature 0"
            assert r.get("max_tokens") == 5, "generate at most max_tokens=5 tokens"
            assert r.get("stop") in ("\n", ["\n"]), "stop at the newline"
            assert r.get("model") == MODEL, "ask the model given"
        assert got == expected, f"accuracy with scripted answers, k={k}: {got}"


@grade(cell="evaluate_icl", points=0.5, hint="k=0 and k=len(examples) are allowed; k<0, k larger than ANY episode's number of examples (not only the first's), or an unknown method raise ValueError; no episodes give 0.0; do not modify the episodes.")
def test_edges_errors_and_inputs(student):
    """k = 0 and k = all examples; ValueError for k < 0, k too large for a later episode, an unknown method; 0.0 for no episodes; episodes not modified"""
    eps = episodes(3, 2, "real", seed=11)
    endpoint, client = scripted(student, [" red"])
    _, (after,) = student.lib(CALL_AND_ARGUMENTS)(student.ref("evaluate_icl"), [client, eps, 2], {"model": MODEL}, [1])
    assert after == eps, "the episodes were modified"
    assert sent_prompts(endpoint.requests()) == [ref_prompting.build_few_shot_prompt(e["examples"], e["query"], TEMPLATE) for e in eps]
    _, client = scripted(student, [" red"])
    assert student.evaluate_icl(client, [], 0, model=MODEL) == 0.0
    shorter_last = episodes(3, 3, "real", seed=12)
    shorter_last[2]["examples"] = shorter_last[2]["examples"][:1]
    for episodes_, k, method in ((eps, 3, "generate"), (eps, -1, "generate"), (eps, 1, "vote"), (shorter_last, 2, "generate"),
                                 (shorter_last, 2, "score")):
        got = student.lib(PROBES + "error_name")(student.ref("evaluate_icl"), [client, episodes_, k], {"model": MODEL, "method": method})
        assert got == "ValueError", f"k={k}, method={method!r} should raise ValueError, got {got or 'no error'}"


# Scripted log-probabilities: " dax" and " wug" tie, " toma" is less likely, a two-word label sums its words.
TIE_LOGPROBS = {" dax": -1.0, " wug": -1.0, " toma": -2.0, " blicket": -3.0, " red": -0.5, " circle": -2.0}
TIE_EPISODES = [
    {"examples": [["red circle", "dax"], ["blue star", "wug"]], "query": "red star", "answer": "dax", "labels": ["dax", "wug", "toma"]},
    {"examples": [["blue star", "wug"], ["red circle", "dax"]], "query": "blue circle", "answer": "wug", "labels": ["wug", "dax", "toma"]},
    {"examples": [["green cross", "toma"]], "query": "red cross", "answer": "toma", "labels": ["blicket", "toma", "red circle"]},
    {"examples": [["green cross", "toma"]], "query": "blue cross", "answer": "blicket", "labels": ["blicket", "toma", "dax"]},
]


@grade(cell="evaluate_icl", points=0.25, hint="method='score': the label with the highest score; on a tie the one that comes first in episode['labels'] (e.g. scores.index(max(scores)), not the last and not the largest string).")
def test_scoring_ties_go_to_the_first_label(student):
    """method='score' with scripted log-probabilities: the most likely label, the first of the labels on a tie, the model given"""
    for k in (0, 1):
        endpoint, client = scripted(student, [" unused"], logprobs=TIE_LOGPROBS)
        got = student.evaluate_icl(client, TIE_EPISODES, k, model="scripted-lm", method="score")
        expected = ref_evaluation.evaluate_icl(ScriptedEndpoint([" unused"], TIE_LOGPROBS).client(), TIE_EPISODES, k,
                                               "scripted-lm", method="score")
        assert isinstance(got, float) and got == expected, f"k={k}: accuracy {got!r} with scripted scores"
        assert all(r.get("model") == "scripted-lm" for r in endpoint.requests()), "score with the model given"


@functools.cache
def ref_accuracy(kind, seed, n, shots, k, method):
    return ref_evaluation.evaluate_icl(ref_client(), episodes(n, shots, kind, seed), k, MODEL, method=method)


@grade(cell="evaluate_icl", points=1.0, hint="The prompt of an episode holds its first k examples in order, then the query; generate at temperature 0 up to the newline and parse the answer.")
def test_generation_accuracy_equals_the_reference(student):
    """accuracy by generation at temperature 0 for real, flipped and nonsense labels and k = 0, 1, 2, 4, 8, as the reference"""
    client = student_client(student)
    for kind, seed in (("real", 1), ("flipped", 2), ("nonsense", 3)):
        eps = episodes(16, 8, kind, seed)
        for k in (0, 1, 2, 4, 8):
            expected = ref_accuracy(kind, seed, 16, 8, k, "generate")
            close_accuracy(student.evaluate_icl(client, eps, k, model=MODEL), expected, len(eps), f"{kind} labels, k={k}")


@grade(cell="evaluate_icl", points=0.5, hint="method='score' picks the label with the highest score_labels (the first on a tie).")
def test_scoring_accuracy_equals_the_reference(student):
    """accuracy by scoring the label set, for flipped and nonsense labels and several k, as the reference"""
    client = student_client(student)
    for kind, seed in (("flipped", 4), ("nonsense", 5)):
        eps = episodes(12, 4, kind, seed)
        for k in (0, 1, 4):
            expected = ref_accuracy(kind, seed, 12, 4, k, "score")
            close_accuracy(student.evaluate_icl(client, eps, k, model=MODEL, method="score"), expected, len(eps),
                           f"scored, {kind} labels, k={k}")


# --- chain_of_thought (2 points) ------------------------------------------------------------------------------
@grade(cell="chain_of_thought", points=0.5, hint="cot_prompt(question, demos) is build_few_shot_prompt(demos, question, COT_TEMPLATE): 'question: chain' lines, then 'question:'; the demos are not modified.")
def test_cot_prompt_exact(student):
    """the chain-of-thought prompt with no, one and two demonstrations (spaces kept as they are); the demos are not modified"""
    cases = (("2*3*4*2", []), ("2*3*4*2", data.cot_demos(1)), ("9*9*9*9", data.cot_demos(2, seed=4)),
             (" 2*3*4*2 ", [[" 3*4*2*5", "3*4=12, 12*2=24, 24*5=120 "]]))
    for question, demos in cases:
        expected = ref_reasoning.cot_prompt(question, demos)
        assert student.cot_prompt(question, demos) == expected, f"{len(demos)} demos, question {question!r}"
    assert student.cot_prompt("5*5*5*5") == "5*5*5*5:"
    demos = [list(d) for d in data.cot_demos(2, seed=6)]
    value, (after,) = student.lib(CALL_AND_ARGUMENTS)(student.ref("cot_prompt"), ["3*3*3*3", demos], {}, [1])
    assert value == ref_reasoning.cot_prompt("3*3*3*3", demos) and [list(d) for d in after] == demos, "the demos were modified"


FINAL_CASES = [" 3+8=11, 11+6=17, 17+2=19", "3+8=11, 11+6=17, 17+2=19\n", "The answer is 42.", "no idea", "",
               "is -7", "9-2", "3.5", "1\n2\n3", "so the total is 1234, not 12", "x=5,y=-3", "0007", "a1b22c333",
               " 2+2=4, 4+2=6, 6+2=8 so 8"]
# What the markdown says an integer is: a minus sign counts only directly before the digits and not after a
# digit; no thousands separators; no decimals.
NUMBER_CASES = ["1,234", "total: -1,250", "x-5", "5 - -3", "3--2", "a-b-9", "12-7", "- 7", "+4", "-0", "-007",
                "0.25", "-3.5", "1 000", "(-6)", "-12, not 4", "= -40"]


@grade(cell="chain_of_thought", points=0.75, hint="Take the LAST integer of the text, not the first: a chain starts with its first step.")
def test_final_answer_of_messy_chains(student):
    """the last integer of chains, sentences, negative numbers, several lines; None when there is none"""
    for text in FINAL_CASES:
        expected = ref_reasoning.extract_final_answer(text)
        got = student.extract_final_answer(text)
        assert got == expected and type(got) is type(expected), f"extract_final_answer({text!r}) gave {got!r}"


@grade(cell="chain_of_thought", points=0.5, hint="An integer is a run of digits: negative only when a minus sign directly precedes it and does not follow a digit ('9-2' ends with 2, 'x-5' with -5); ',' and '.' are not part of a number ('1,234' ends with 234, '0.25' with 25).")
def test_final_answer_signs_separators_decimals(student):
    """signs (a minus after a digit is not one), thousands separators and decimals as the markdown defines an integer"""
    for text in NUMBER_CASES:
        expected = ref_reasoning.extract_final_answer(text)
        got = student.extract_final_answer(text)
        assert got == expected and type(got) is type(expected), f"extract_final_answer({text!r}) gave {got!r}"


# Questions icl-tiny answers with a wrong chain (out of its training range) or none, with held-out products it gets right.
ODD_QUESTIONS = ["3*4*5", "8*9*3*1", "0*5*3*2", "2*3*4*5*6", "11*11*11*11"]


@functools.cache
def ref_chain(prompt):
    return ref_client().completions.create(model=MODEL, prompt=prompt, max_tokens=40, temperature=0, stop=["\n"]).choices[0].text


@grade(cell="chain_of_thought", points=0.25, hint="Prompt with cot_prompt and read the answer with extract_final_answer: the model's chains end with its answer, right or wrong.")
def test_chains_from_the_endpoint(student):
    """on held-out products and on questions the model gets wrong, the student's prompt gets the model's chain and its final answer is read as the reference reads it"""
    questions = [q for q, _ in data.product_questions(4, seed=31)] + ODD_QUESTIONS
    for question in questions:
        prompt = student.cot_prompt(question, [])
        assert prompt == ref_reasoning.cot_prompt(question)
        text = ref_chain(prompt)
        assert student.extract_final_answer(text) == ref_reasoning.extract_final_answer(text), repr(text)


# --- self_consistency (2 points) ------------------------------------------------------------------------------
CHAINS = [" 3+8=11, 11+6=18, 18+2=20", " 3+8=11, 11+6=18, 18+2=20", " 3+8=11, 11+6=17, 17+2=19", " so 19",
          " 17+2=19.", " no idea", " 3+8=11, 11+6=18, 18+2=20"]


def total_choices(requests) -> int:
    return sum(int(r.get("n") or 1) * len(r["prompt"] if isinstance(r.get("prompt"), list) else [r.get("prompt")])
               for r in requests)


@grade(cell="self_consistency", points=1.0, hint="Vote over the parsed final answers (extract_final_answer of each chain), not over the chains' text; drop chains without a number.")
def test_vote_over_parsed_answers(student):
    """the majority of the parsed final answers (chains that differ in text but agree in answer), not of the raw chains"""
    for n, texts in ((6, CHAINS[:6]), (7, CHAINS), (3, [" =5", " 5.", " 6"]), (4, [" 1", " x", " 2", " y"])):
        endpoint, client = scripted(student, texts)
        got = student.self_consistency(client, "3+8+6+2", n, model=MODEL)
        expected = ref_reasoning.self_consistency(ScriptedEndpoint(texts).client(), "3+8+6+2", n, MODEL)
        assert got == expected, f"{n} chains: got {got!r}"
        assert total_choices(endpoint.requests()) == n, f"sample exactly n={n} chains"


@grade(cell="self_consistency", points=0.5, hint="Sample n chains of cot_prompt(question, demos) at the given temperature (not 0), max_tokens=40, stop at '\\n'; ties go to the answer seen first; None if no chain has a number; n=1 is allowed, n < 1 is a ValueError; do not modify demos.")
def test_requests_ties_and_edges(student):
    """the prompt (with demos), the given temperature, ties to the first answer, n = 1, None without answers, ValueError for n < 1, demos not modified"""
    demos = [list(d) for d in data.cot_demos(1)]
    endpoint, client = scripted(student, [" 7", " 5", " 5", " 7"])
    value = student.self_consistency(client, "1+2+2+2", 4, model=MODEL, demos=demos)
    assert value == 7, f"a tie between 7 and 5 (7 seen first) gave {value!r}"
    for r in endpoint.requests():
        assert sent_prompts([r])[0] == ref_reasoning.cot_prompt("1+2+2+2", demos)
        assert r.get("temperature") == 0.7 and r.get("stop") in ("\n", ["\n"]) and r.get("max_tokens") == 40
    for texts, n in (([" 9", " 9", " 4", " 4", " x"], 5), ([" 12", " 3", " 3", " 12", " 8"], 5), ([" 6"], 1)):
        _, client = scripted(student, texts)
        expected = ref_reasoning.self_consistency(ScriptedEndpoint(texts).client(), "2+2+2+2", n, MODEL)
        got = student.self_consistency(client, "2+2+2+2", n, model=MODEL, temperature=0.3)
        assert got == expected, f"answers {[ref_reasoning.extract_final_answer(t) for t in texts[:n]]} gave {got!r}"
    demos_watch = [list(d) for d in data.cot_demos(2, seed=8)]
    _, client = scripted(student, [" 1"])
    _, (after,) = student.lib(CALL_AND_ARGUMENTS)(student.ref("self_consistency"), [client, "1+1+1+1", 2, MODEL, demos_watch], {}, [4])
    assert [list(d) for d in after] == demos_watch, "the demos were modified"
    _, client = scripted(student, [" none", " at all"])
    assert student.self_consistency(client, "1+1+1+1", 2, model=MODEL) is None
    got = student.lib(PROBES + "error_name")(student.ref("self_consistency"), [client, "1+1+1+1", 0], {"model": MODEL})
    assert got == "ValueError", f"n=0 should raise ValueError, got {got or 'no error'}"


@functools.cache
def ref_vote(question, n):
    return ref_reasoning.self_consistency(ref_client(), question, n, MODEL, temperature=0)


def true_product(question):
    return math.prod(int(x) for x in question.split("*"))


@grade(cell="self_consistency", points=0.5, hint="The answer is the vote over the model's own chains: at temperature=0 every chain is the model's greedy chain, and the vote its final answer, right or wrong (or None).")
def test_vote_against_the_endpoint(student):
    """against the endpoint at temperature 0: the vote is the final answer of the model's own chain, on questions it gets wrong as well as right"""
    client = student_client(student)
    questions = ODD_QUESTIONS[:4] + [q for q, _ in data.product_questions(1, seed=32)] + ODD_QUESTIONS[4:]
    expected = [ref_vote(q, 3) for q in questions]
    # the test's own premise: the model's answer is not the product on most of these (a function that computes
    # the product itself must fail)
    assert sum(e != true_product(q) for q, e in zip(questions, expected)) >= 4, "the endpoint's chains changed"
    for question, answer in zip(questions, expected):
        got = student.self_consistency(client, question, 3, model=MODEL, temperature=0)
        assert got == answer, f"{question}: the model's chains end in {answer}, the vote gave {got!r}"


# --- socratic_caption (3 points) ------------------------------------------------------------------------------
@functools.cache
def socratic_images():
    shapes = data.shape_images("val", num=6, seed=17)
    return data.clip_image_embeddings(shapes.images), data.caption_prefixes(shapes.vocab)


def student_encoder(student):
    return student.lib("vlcourse.icl.data.clip_text_encoder").keep()


def assert_ranked(got, expected, what):
    assert isinstance(got, list) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in got), \
        f"{what}: expected a list of (caption, similarity) pairs"
    assert [c for c, _ in got] == [c for c, _ in expected], f"{what}: the ranked captions differ"
    assert all(type(s) is float for _, s in got), f"{what}: each similarity should be a Python float"
    assert_close(torch.tensor([s for _, s in got], dtype=torch.float64),
                 torch.tensor([s for _, s in expected], dtype=torch.float64), "float32", what=f"{what}: similarities")


@grade(cell="socratic_caption", points=0.75, hint="The language model only writes candidates: the order comes from CLIP's similarity with the whole candidate caption, and the prompts are CLIP's top-k proposals.")
def test_clip_reranks_scripted_candidates(student):
    """with scripted completions: the prompts are CLIP's k best proposals, and CLIP (not the LM's order) ranks the candidates; duplicates once"""
    embeddings, proposals = socratic_images()
    texts = ["", " right of a large red cross", " above a small green square", "", " below a large blue circle", " left of a small yellow diamond"]
    encode = student_encoder(student)
    for i, (k, n) in enumerate(((3, 2), (2, 3), (1, 4))):
        endpoint, client = scripted(student, texts)
        got = student.socratic_caption(client, embeddings[i], encode, proposals, k=k, n=n, model=data.CAPTION_MODEL)
        reference = ScriptedEndpoint(texts)
        expected = ref_socratic.socratic_caption(reference.client(), embeddings[i], data.clip_text_encoder(), proposals, k, n)
        assert sorted(sent_prompts(endpoint.requests())) == sorted(sent_prompts(reference.requests())), \
            f"k={k}: the prompts should be CLIP's {k} best proposals"
        assert total_choices(endpoint.requests()) == k * n, f"k={k}, n={n}: ask for n completions of each proposal"
        assert_ranked(got, expected, f"k={k}, n={n}")


@grade(cell="socratic_caption", points=0.5, hint="Sample with the given temperature and seed (one request per proposal or one for all, n=n); k = len(proposals) and n = 1 are allowed; k outside 1..len(proposals) or n < 1 raise ValueError.")
def test_sampling_parameters_and_errors(student):
    """the completions are sampled with the given temperature, seed, max_tokens and stop; k = len(proposals) and n = 1 allowed; ValueError for a bad k or n"""
    embeddings, proposals = socratic_images()
    encode = student_encoder(student)
    endpoint, client = scripted(student, [" above a small red circle"])
    student.socratic_caption(client, embeddings[0], encode, proposals, k=2, n=2, model=data.CAPTION_MODEL, temperature=0.5, seed=3)
    for r in endpoint.requests():
        assert r.get("temperature") == 0.5 and r.get("seed") == 3 and r.get("max_tokens") == 16
        assert r.get("stop") in ("\n", ["\n"]) and r.get("model") == data.CAPTION_MODEL
    few = proposals[:3]
    texts = [" above a small red circle", ""]
    for k, n in ((len(few), 1), (1, 1)):
        endpoint, client = scripted(student, texts)
        got = student.socratic_caption(client, embeddings[1], encode, few, k=k, n=n, model=data.CAPTION_MODEL)
        expected = ref_socratic.socratic_caption(ScriptedEndpoint(texts).client(), embeddings[1], data.clip_text_encoder(), few, k, n)
        assert total_choices(endpoint.requests()) == k * n, f"k={k}, n={n}: ask for n completions of each proposal"
        assert_ranked(got, expected, f"k={k} of {len(few)} proposals, n={n}")
    for k, n in ((0, 1), (len(proposals) + 1, 1), (1, 0)):
        got = student.lib(PROBES + "error_name")(student.ref("socratic_caption"), [client, embeddings[0], encode, proposals],
                                                  {"k": k, "n": n, "model": data.CAPTION_MODEL})
        assert got == "ValueError", f"k={k}, n={n} should raise ValueError, got {got or 'no error'}"


# A known text encoder: "a small blue cross" and "a small blue square" point the same way (a tie for CLIP's second
# place, which the earlier proposal wins), and so do two candidates (the earlier candidate ranks first); the
# completions carry spaces that strip() removes, and two of them are the same caption after it.
KNOWN_PROPOSALS = ["a large red circle", "a small blue cross", "a small green star", "a small blue square"]
KNOWN_TEXTS = [" left of a small blue square  ", " ", " right of a large red circle", " right of a large red circle \t"]


def known_table(dtype):
    w = [0.9, 0.4, 0.2, 0.1]
    rows = {"a large red circle": [3.0, 0.3, 0.0, 0.0], "a small blue cross": [0.5, 0.5, 0.5, 0.0],
            "a small green star": [0.0, 0.0, 0.0, 1.0], "a small blue square": [1.0, 1.0, 1.0, 0.0],
            "a large red circle left of a small blue square": w,
            "a small blue cross right of a large red circle": [0.5 * x for x in w]}
    return {text: torch.tensor(row, dtype=dtype) for text, row in rows.items()}


@grade(cell="socratic_caption", points=0.5, hint="Any float dtypes (a float64 image, a float32 encoder): compute in one dtype. Ties keep the earlier proposal / candidate; a candidate is (proposal + completion).strip(), each once; similarities are Python floats; do not modify the image or the proposals.")
def test_ties_whitespace_dtypes_with_a_known_encoder(student):
    """with a known text encoder and scripted completions: ties (proposals and candidates), stripped and repeated candidates, float32 and float64 inputs, Python floats, inputs not modified"""
    for image_dtype, table_dtype in ((torch.float64, torch.float32), (torch.float32, torch.float64)):
        image = torch.tensor([1.0, 0.2, 0.1, 0.0], dtype=image_dtype) * 1.5
        table = known_table(table_dtype)
        encode = student.lib(PROBES + "table_encoder").keep(table)
        endpoint, client = scripted(student, KNOWN_TEXTS)
        value, (image_after, proposals_after) = student.lib(CALL_AND_ARGUMENTS)(
            student.ref("socratic_caption"), [client, image, encode, list(KNOWN_PROPOSALS)],
            {"k": 2, "n": 2, "model": data.CAPTION_MODEL}, [1, 3])
        expected = ref_socratic.socratic_caption(ScriptedEndpoint(KNOWN_TEXTS).client(), image, table_encoder(table),
                                                 KNOWN_PROPOSALS, 2, 2)
        what = f"{str(image_dtype)[6:]} image, {str(table_dtype)[6:]} text embeddings"
        assert sorted(sent_prompts(endpoint.requests())) == sorted(KNOWN_PROPOSALS[:2]), \
            f"{what}: the prompts should be the 2 best proposals (a tie for second goes to the earlier one)"
        assert_ranked(value, expected, what)
        assert type(image_after) is torch.Tensor and image_after.dtype == image_dtype and torch.equal(image_after, image), \
            f"{what}: the image embedding was modified"
        assert proposals_after == KNOWN_PROPOSALS, f"{what}: the proposals were modified"


@functools.cache
def ref_socratic_captions(i):
    embeddings, proposals = socratic_images()
    return ref_socratic.socratic_caption(ref_client(), embeddings[i], data.clip_text_encoder(), proposals, 3, 4)


@grade(cell="socratic_caption", points=1.25, hint="Keep CLIP's k best proposals, sample n completions of each (seeded), and rank the distinct captions by CLIP similarity with the image.")
def test_ranked_captions_equal_the_reference(student):
    """on shapes images, against the endpoint: the ranked candidate captions and their CLIP similarities, as the reference"""
    embeddings, proposals = socratic_images()
    client, encode = student_client(student), student_encoder(student)
    for i in range(len(embeddings)):
        expected = ref_socratic_captions(i)
        got = student.socratic_caption(client, embeddings[i], encode, proposals, k=3, n=4, model=data.CAPTION_MODEL)
        assert_ranked(got, expected, f"image {i}")


# --- classify_by_descriptions (2 points) ----------------------------------------------------------------------
def table_case(seed=0, dim=6):
    g = torch.Generator().manual_seed(seed)
    words = ["round", "no corners", "red", "four sides", "points", "a star", "thin", "a cross", "two bars"]
    table = {w: torch.randn(dim, generator=g, dtype=torch.float64) * (1 + 3 * torch.rand(1, generator=g, dtype=torch.float64))
             for w in words}
    descriptors = {"circle": ["round", "no corners", "red"], "square": ["four sides"],
                   "star": ["points", "a star", "thin", "red"], "cross": ["a cross", "two bars"]}
    images = torch.randn(7, dim, generator=g, dtype=torch.float64) * 2.5
    return table, descriptors, images


@grade(cell="classify_by_descriptions", points=1.0, hint="scores[i, c] is the MEAN (not the sum) over class c's descriptors of the cosine similarity: normalise the image and each descriptor embedding; images and text embeddings may come in different float dtypes.")
def test_scores_with_a_known_encoder(student):
    """mean cosine similarity per class with descriptors of different numbers and norms, classes in the dict's order; float64 and float32 images and text embeddings"""
    for seed, image_dtype, table_dtype in ((0, torch.float64, torch.float64), (1, torch.float64, torch.float32),
                                          (2, torch.float32, torch.float64)):
        table, descriptors, images = table_case(seed)
        table = {w: v.to(table_dtype) for w, v in table.items()}
        images = images.to(image_dtype)
        encode = student.lib(PROBES + "table_encoder").keep(table)
        expected = ref_descriptors.classify_by_descriptions(images, table_encoder(table), descriptors)
        got = student.classify_by_descriptions(images, encode, descriptors)
        assert_close(got, expected, "float32", what=f"scores ({str(image_dtype)[6:]} images, {str(table_dtype)[6:]} text)")


@grade(cell="classify_by_descriptions", points=0.5, hint="Use encode_text on each class's descriptors; the result is (N, C); float64 image embeddings work with the float32 CLIP text encoder.")
def test_scores_with_clip(student):
    """with the course's CLIP on shapes images (float32 and float64) and caption-like descriptors, as the reference"""
    embeddings, _ = socratic_images()
    descriptors = {s: [f"a {size} {c} {s}" for size in ("small", "large") for c in ("red", "blue", "cyan")]
                   for s in ("circle", "square", "triangle")} | {"cross": ["a cross"]}
    expected = ref_descriptors.classify_by_descriptions(embeddings, data.clip_text_encoder(), descriptors)
    encode = student_encoder(student)
    for images in (embeddings, embeddings.double()):
        got = student.classify_by_descriptions(images, encode, descriptors)
        assert_close(got, expected, "float32", what=f"scores ({str(images.dtype)[6:]} images)")


@grade(cell="classify_by_descriptions", points=0.5, hint="A class without descriptors is a ValueError, wherever it comes in the dict; do not modify the image embeddings (no in-place normalisation) or the descriptors.")
def test_errors_and_inputs_unchanged(student):
    """ValueError for a class with no descriptors (second or last); the image embeddings and the descriptors are not modified"""
    table, descriptors, images = table_case(2)
    encode = student.lib(PROBES + "table_encoder").keep(table)
    value, (images_after, descriptors_after) = student.lib(CALL_AND_ARGUMENTS)(
        student.ref("classify_by_descriptions"), [images, encode, descriptors], {}, [0, 2])
    assert_close(value, ref_descriptors.classify_by_descriptions(images, table_encoder(table), descriptors), "float32")
    assert type(images_after) is torch.Tensor and torch.equal(images_after, images), "the image embeddings were modified"
    assert descriptors_after == descriptors and list(descriptors_after) == list(descriptors), "the descriptors were modified"
    for bad in ({"circle": ["round"], "square": []}, {"circle": ["round"], "square": ["four sides"], "star": []}):
        got = student.lib(PROBES + "error_name")(student.ref("classify_by_descriptions"), [images, encode, bad])
        assert got == "ValueError", f"a class without descriptors ({list(bad)[-1]}) should raise ValueError, got {got or 'no error'}"
