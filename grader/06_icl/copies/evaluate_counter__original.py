# cell: evaluate_icl
# why: a student's own evaluate_icl: a helper per method, a hit counter, validation first (copy-detection corpus)
# expect: full
def _generated_label(client, model, prompt, labels):
    out = client.completions.create(model=model, prompt=prompt, temperature=0, max_tokens=5, stop=["\n"])
    return parse_answer(out.choices[0].text, labels)


def _scored_label(client, model, prompt, labels):
    values = score_labels(client, prompt, labels, model)
    top = 0
    for j in range(1, len(values)):
        if values[j] > values[top]:
            top = j
    return labels[top]


def evaluate_icl(client, episodes, k, model=MODEL, method="generate", template=TEMPLATE):
    pick = {"generate": _generated_label, "score": _scored_label}.get(method)
    if pick is None:
        raise ValueError("method must be generate or score")
    for ep in episodes:
        if k < 0 or k > len(ep["examples"]):
            raise ValueError("k out of range")
    hits = 0
    for ep in episodes:
        shots = ep["examples"][:k]
        text = build_few_shot_prompt(shots, ep["query"], template)
        if pick(client, model, text, list(ep["labels"])) == ep["answer"]:
            hits += 1
    return hits / len(episodes) if len(episodes) > 0 else 0.0
