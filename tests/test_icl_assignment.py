"""Assignment 06's graded pieces (vlcourse.icl: prompting, evaluation, reasoning, socratic, descriptors)
against slow obvious versions, the format icl-tiny was trained on, the llm layer's own scoring and
in-process model calls; the pipelines through the real local endpoint at temperature 0."""

import random
import re
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from vlcourse.icl.data import (CAPTION_MODEL, caption_prefixes, clip_image_embeddings, clip_text_encoder, cot_demos,
                               direct_demos, icl_episodes, product_questions, shape_images)
from vlcourse.icl.descriptors import classify_by_descriptions
from vlcourse.icl.episodes import chain_of_thought, few_shot_prompt, product, product_problem, random_task
from vlcourse.icl.evaluation import TEMPLATE, evaluate_icl, score_labels
from vlcourse.icl.probes import ScriptedEndpoint
from vlcourse.icl.prompting import build_few_shot_prompt, parse_answer
from vlcourse.icl.reasoning import COT_TEMPLATE, DIRECT_TEMPLATE, cot_prompt, extract_final_answer, self_consistency
from vlcourse.icl.socratic import socratic_caption
from vlcourse.llm import LLM, LLMConfig, LocalEndpoint, make_client


@pytest.fixture(scope="module")
def endpoint():
    with LocalEndpoint() as running:
        yield running


@pytest.fixture(scope="module")
def client(endpoint):
    client = make_client(LLMConfig(socket=endpoint.socket, max_retries=0))
    yield client
    client.close()


# --- prompts and parsing --------------------------------------------------------------------------------
def test_prompt_is_the_format_icl_tiny_was_trained_on():
    for seed in range(20):
        task = random_task(random.Random(seed))
        trained, _ = few_shot_prompt(task, seed % 6, random.Random(seed))
        lines = trained.split("\n")
        examples = [line.split(" -> ") for line in lines[:-1]]
        assert build_few_shot_prompt(examples, lines[-1].removesuffix(" ->"), TEMPLATE) == trained
    assert build_few_shot_prompt([], "red star", TEMPLATE) == "red star ->"
    assert build_few_shot_prompt([("a", "b")], "c", "Q: {input}\nA: {label}") == "Q: a\nA: b\nQ: c\nA:"
    assert cot_prompt("2*3*4*2") == "2*3*4*2:"
    digits = (3, 4, 2, 5)
    assert cot_prompt("2*3*4*2", [(product_problem(digits), chain_of_thought(digits))]) == \
        "3*4*2*5: 3*4=12, 12*2=24, 24*5=120\n2*3*4*2:"
    assert build_few_shot_prompt(direct_demos(1), "2*3*4*2", DIRECT_TEMPLATE).endswith("\n2*3*4*2=")
    assert [q for q, _ in cot_demos(3)] == [q for q, _ in direct_demos(3)]


def slow_parse(text, labels):
    """Scan every position of the text; at each, the longest label that starts there as a whole word."""
    low = text.lower()
    for start in range(len(text)):
        if start and low[start - 1].isalnum():
            continue
        fits = [lab for lab in labels if low.startswith(lab.lower(), start)
                and (start + len(lab) == len(text) or not low[start + len(lab)].isalnum())]
        if fits:
            return max(fits, key=len)
    return None


def test_parse_answer_against_a_slow_scan():
    labels = ["dax", "wug", "blicket", "toma", "red", "red circle", "Fep"]
    fixed = {" Dax\n": "dax", "The answer is: blicket.": "blicket", "wugs": None, "tomato": None, "**Wug**": "wug",
             "red circle": "red circle", "FEP!": "Fep", "wug or dax": "wug", "": None, "dax-wug": "dax"}
    for text, expected in fixed.items():
        assert parse_answer(text, labels) == expected == slow_parse(text, labels), text
    rng = random.Random(0)
    alphabet = ["dax", "wug", "blicket", "toma", "to", "red", "circle", " ", " ", ".", "s", "X", "\n", "**", "-"]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert parse_answer(text, labels) == slow_parse(text, labels), text


def test_final_answer_is_the_last_integer():
    for digits in [(3, 4, 2, 5), (2, 2, 2, 2), (9, 9, 9, 9)]:
        assert extract_final_answer(" " + chain_of_thought(digits)) == product(digits)
    cases = {"The answer is 42.": 42, "none": None, "is -7": -7, "9-2": 2, "3.5": 5, "1\n2\n3": 3, "": None}
    for text, expected in cases.items():
        assert extract_final_answer(text) == expected, text
    rng = random.Random(1)
    for _ in range(500):
        numbers = [rng.randint(0, 999) for _ in range(rng.randint(1, 5))]
        text = " ".join(f"{rng.choice(['x', '=', ',', ' so'])}{n}" for n in numbers)
        assert extract_final_answer(text) == numbers[-1]


# --- through the endpoint --------------------------------------------------------------------------------
def test_score_labels_equals_the_llm_layers_scores_and_the_model_in_process(client, endpoint):
    from vlcourse.icl import load_icl_model

    llm = LLM(LLMConfig(socket=endpoint.socket, cache_dir=None, model="icl-tiny"))
    model, tok = load_icl_model()
    for episode in icl_episodes(4, 3, seed=5):
        prompt = build_few_shot_prompt(episode["examples"], episode["query"], TEMPLATE)
        ours = score_labels(client, prompt, episode["labels"])
        assert ours == pytest.approx(llm.score(prompt, [" " + lab for lab in episode["labels"]]), abs=1e-4)
        for label, value in zip(episode["labels"], ours):  # the slow way: one forward pass, log-softmax, sum
            ids, label_ids = tok.encode(prompt), tok.encode(" " + label)
            logits, _ = model(torch.tensor([ids + label_ids]))
            logp = torch.log_softmax(logits[0].double(), -1)
            expected = sum(logp[len(ids) - 1 + j, t].item() for j, t in enumerate(label_ids))
            assert value == pytest.approx(expected, abs=1e-3)


def test_evaluate_icl_matches_a_loop_of_plain_requests(client, endpoint):
    llm = LLM(LLMConfig(socket=endpoint.socket, cache_dir=None, model="icl-tiny"))
    episodes = icl_episodes(12, 4, "flipped", seed=3)
    for k in (0, 1, 4):
        prompts = [build_few_shot_prompt(e["examples"][:k], e["query"], TEMPLATE) for e in episodes]
        generated = [parse_answer(llm.complete_text(p, max_tokens=5, temperature=0, stop=["\n"]), e["labels"])
                     for p, e in zip(prompts, episodes)]
        chosen = [llm.choose(p, [" " + lab for lab in e["labels"]]).strip() for p, e in zip(prompts, episodes)]
        assert evaluate_icl(client, episodes, k) == sum(g == e["answer"] for g, e in zip(generated, episodes)) / 12
        assert evaluate_icl(client, episodes, k, method="score") == sum(c == e["answer"] for c, e in zip(chosen, episodes)) / 12
    assert evaluate_icl(client, [], 0) == 0.0
    with pytest.raises(ValueError):
        evaluate_icl(client, episodes, 5)


def test_icl_effects_show_through_evaluate_icl(client):
    real, flipped = icl_episodes(30, 8, "real", seed=1), icl_episodes(30, 8, "flipped", seed=1)
    assert evaluate_icl(client, flipped, 0) < 0.2 < 0.8 < evaluate_icl(client, flipped, 8)
    assert evaluate_icl(client, real, 8) > 0.9


def test_scripted_endpoint_records_requests_and_answers_in_order():
    endpoint = ScriptedEndpoint([" dax", " wug"])
    episodes = [{"examples": [["red circle", "dax"]], "query": q, "answer": "dax", "labels": ["dax", "wug"]}
                for q in ("red star", "blue star")]
    assert evaluate_icl(endpoint.client(), episodes, 1) == 0.5
    assert [r["prompt"] for r in endpoint.requests()] == ["red circle -> dax\nred star ->", "red circle -> dax\nblue star ->"]
    assert all(r["temperature"] == 0 and r["stop"] == ["\n"] for r in endpoint.requests())


def test_self_consistency_votes_over_parsed_answers():
    chains = [" 3+8=11, 11+6=18, 18+2=20", " 3+8=11, 11+6=18, 18+2=20", " 3+8=11, 11+6=17, 17+2=19",
              " so 19", " 17+2=19.", " no idea"]
    endpoint = ScriptedEndpoint(chains)
    assert self_consistency(endpoint.client(), "3+8+6+2", 6) == 19  # a vote over raw strings says 20
    (request,) = endpoint.requests()
    assert request["prompt"] == "3+8+6+2:" and request["n"] == 6 and request["temperature"] > 0
    assert self_consistency(ScriptedEndpoint([" 5", " 7"]).client(), "1+1", 2) == 5  # a tie: the first
    assert self_consistency(ScriptedEndpoint([" none"]).client(), "1+1", 3) is None
    slow = Counter(extract_final_answer(c) for c in chains if extract_final_answer(c) is not None).most_common(1)[0][0]
    assert slow == 19


def test_chain_of_thought_and_self_consistency_on_trained_products(client):
    for question, answer in product_questions(5, "train", seed=3):
        text = client.completions.create(model="icl-tiny", prompt=cot_prompt(question), max_tokens=40, temperature=0,
                                         stop=["\n"]).choices[0].text
        assert text.count("=") == 3 and extract_final_answer(text) == answer
        assert self_consistency(client, question, 5) == answer


# --- GPT + X ---------------------------------------------------------------------------------------------
def test_classify_by_descriptions_against_a_float64_loop():
    torch.manual_seed(0)
    table = {w: torch.randn(8, dtype=torch.float64) for w in "abcdefg"}
    encode = lambda texts: torch.stack([table[t] for t in texts]).float()
    images = torch.randn(5, 8)
    descriptors = {"x": ["a", "b", "c"], "y": ["d"], "z": ["e", "f", "g", "a"]}
    scores = classify_by_descriptions(images, encode, descriptors)
    for i in range(5):
        for c, texts in enumerate(descriptors.values()):
            sims = [F.cosine_similarity(images[i].double(), table[t], dim=0).item() for t in texts]
            assert scores[i, c].item() == pytest.approx(sum(sims) / len(sims), abs=1e-5)
    with pytest.raises(ValueError):
        classify_by_descriptions(images, encode, {"x": []})


def test_socratic_caption_against_a_slow_version(client):
    data = shape_images(num=6)
    embeddings, encode = clip_image_embeddings(data.images), clip_text_encoder()
    proposals = caption_prefixes(data.vocab)
    lengths = []
    for i in range(6):
        ranked = socratic_caption(client, embeddings[i], encode, proposals, k=3, n=4)
        cos = lambda text: F.cosine_similarity(embeddings[i].double(), encode([text])[0].double(), dim=0).item()
        top = sorted(proposals, key=lambda p: -cos(p))[:3]
        candidates = []
        for p in top:  # one request per proposal (the function sends one for all): the same samples
            reply = client.completions.create(model=CAPTION_MODEL, prompt=p, max_tokens=16, temperature=1.0, n=4,
                                              seed=0, stop=["\n"])
            candidates += [(p + c.text).strip() for c in sorted(reply.choices, key=lambda c: c.index)]
        candidates = list(dict.fromkeys(candidates))
        assert [c for c, _ in ranked] == sorted(candidates, key=lambda c: -cos(c))
        assert [s for _, s in ranked] == pytest.approx([cos(c) for c, _ in ranked], abs=1e-4)
        assert all(re.fullmatch(r"[a-z ]+", c) for c, _ in ranked)
        lengths.append(len(ranked))
    assert max(lengths) > 3  # the language model did write something beyond the proposals


def test_scripted_endpoint_scores_words_with_scripted_logprobs():
    endpoint = ScriptedEndpoint([" x"], logprobs={" dax": -1.0, " wug": -1.0, " red": -0.5, " circle": -2.0})
    client = endpoint.client()
    choice = client.completions.create(model="m", prompt="a -> dax", max_tokens=0, echo=True, logprobs=0).choices[0]
    assert choice.text == "a -> dax"
    assert choice.logprobs.tokens == ["a", " ->", " dax"] and choice.logprobs.text_offset == [0, 1, 4]
    assert choice.logprobs.token_logprobs == [None, -1.0, -1.0]  # " ->" is not listed: the default
    generated = client.completions.create(model="m", prompt="a ->", max_tokens=1, echo=True, logprobs=0).choices[0]
    assert generated.text == "a -> x"  # echo with new tokens: the next scripted text follows the prompt
    assert score_labels(client, "a ->", ["dax", "wug", "toma", "red circle"]) == [-1.0, -1.0, -1.0, -2.5]
    episodes = [{"examples": [], "query": "a", "answer": answer, "labels": labels}
                for answer, labels in (("dax", ["dax", "wug"]), ("wug", ["wug", "dax"]), ("toma", ["red circle", "toma"]))]
    assert evaluate_icl(endpoint.client(), episodes, 0, method="score") == 1.0  # ties go to the first label
    assert evaluate_icl(ScriptedEndpoint([" dax"]).client(), episodes[:1], 0) == 1.0  # generation is unchanged
