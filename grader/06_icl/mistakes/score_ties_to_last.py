# cell: evaluate_icl
# why: method='score' keeps the best label with >=, so a tie goes to the LAST of the tied labels instead of the first
def evaluate_icl(client, episodes, k, model=MODEL, method="generate", template=TEMPLATE):
    if method not in ("generate", "score"):
        raise ValueError(f"unknown method {method!r}")
    if k < 0 or any(k > len(e["examples"]) for e in episodes):
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
            best = None
            for label, score in zip(labels, scores):
                if best is None or score >= best[1]:
                    best = (label, score)
            prediction = best[0]
        correct += prediction == episode["answer"]
    return correct / len(episodes) if episodes else 0.0
