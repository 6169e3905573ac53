# cell: evaluate_icl
# why: the same evaluate_icl copied from a classmate: helpers renamed and swapped, comments added
# expect: full
def _by_scoring(cl, m, p, labs):
    # look at every label's log-likelihood
    vals = score_labels(cl, p, labs, m)
    best = 0
    for idx in range(1, len(vals)):
        if vals[idx] > vals[best]:
            best = idx
    return labs[best]


def _by_generation(cl, m, p, labs):
    resp = cl.completions.create(model=m, prompt=p, temperature=0, max_tokens=5, stop=["\n"])
    return parse_answer(resp.choices[0].text, labs)


def evaluate_icl(client, episodes, k, model=MODEL, method="generate", template=TEMPLATE):
    chooser = {"generate": _by_generation, "score": _by_scoring}.get(method)
    if chooser is None:
        raise ValueError("unknown method")
    for e in episodes:
        if k < 0 or k > len(e["examples"]):
            raise ValueError("bad k")
    right = 0
    for e in episodes:
        demo = e["examples"][:k]
        prompt_text = build_few_shot_prompt(demo, e["query"], template)
        if chooser(client, model, prompt_text, list(e["labels"])) == e["answer"]:
            right += 1
    return right / len(episodes) if len(episodes) > 0 else 0.0
