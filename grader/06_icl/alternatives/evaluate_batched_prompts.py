# cell: evaluate_icl
# why: sends all prompts of the episodes in one request (a list prompt) and scores with a running list
# expect: full
def evaluate_icl(client, episodes, k, model=MODEL, method="generate", template=TEMPLATE):
    if method not in {"generate", "score"}:
        raise ValueError("unknown method")
    if k < 0 or any(len(e["examples"]) < k for e in episodes):
        raise ValueError("bad k")
    if not episodes:
        return 0.0
    prompts = [build_few_shot_prompt(e["examples"][:k], e["query"], template) for e in episodes]
    if method == "generate":
        r = client.completions.create(model=model, prompt=prompts, max_tokens=5, temperature=0, stop=["\n"])
        texts = [c.text for c in sorted(r.choices, key=lambda c: c.index)]
        predictions = [parse_answer(t, e["labels"]) for t, e in zip(texts, episodes)]
    else:
        predictions = []
        for p, e in zip(prompts, episodes):
            s = score_labels(client, p, e["labels"], model)
            predictions.append(e["labels"][s.index(max(s))])
    hits = [p == e["answer"] for p, e in zip(predictions, episodes)]
    return sum(hits) / len(hits)
