# cell: evaluate_icl
# why: the query with its answer is added to the shots: the answer leaks into the prompt
def evaluate_icl(client, episodes, k, model=MODEL, method="generate", template=TEMPLATE):
    if method not in ("generate", "score"):
        raise ValueError(f"method must be 'generate' or 'score', got {method!r}")
    if k < 0 or any(k > len(e["examples"]) for e in episodes):
        raise ValueError(f"k must be between 0 and every episode's number of examples, got {k}")
    correct = 0
    for episode in episodes:
        prompt = build_few_shot_prompt(episode["examples"][:k] + [[episode["query"], episode["answer"]]], episode["query"], template)
        labels = list(episode["labels"])
        if method == "generate":
            reply = client.completions.create(model=model, prompt=prompt, max_tokens=5, temperature=0, stop=["\n"])
            prediction = parse_answer(reply.choices[0].text, labels)
        else:
            scores = score_labels(client, prompt, labels, model)
            prediction = labels[max(range(len(labels)), key=scores.__getitem__)]
        correct += prediction == episode["answer"]
    return correct / len(episodes) if episodes else 0.0
