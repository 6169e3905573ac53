# cell: evaluate_icl
# why: checks k against the first episode's number of examples only, so a later episode with fewer examples is silently evaluated with all of them
def evaluate_icl(client, episodes, k, model=MODEL, method="generate", template=TEMPLATE):
    if method not in ("generate", "score"):
        raise ValueError(f"unknown method {method!r}")
    if k < 0 or (episodes and k > len(episodes[0]["examples"])):
        raise ValueError(f"bad k={k}")
    correct = 0
    for episode in episodes:
        prompt = build_few_shot_prompt(episode["examples"][:k], episode["query"], template)
        labels = list(episode["labels"])
        if method == "generate":
            reply = client.completions.create(model=model, prompt=prompt, max_tokens=5, temperature=0, stop=["\n"])
            prediction = parse_answer(reply.choices[0].text, labels)
        else:
            scores = score_labels(client, prompt, labels, model)
            prediction = labels[max(range(len(labels)), key=scores.__getitem__)]
        correct += prediction == episode["answer"]
    return correct / len(episodes) if episodes else 0.0
