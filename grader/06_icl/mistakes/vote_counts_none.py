# cell: self_consistency
# why: chains without a number vote for None
def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    reply = client.completions.create(model=model, prompt=cot_prompt(question, demos), n=n, temperature=temperature,
                                      max_tokens=40, stop=["\n"])
    answers = [extract_final_answer(c.text) for c in sorted(reply.choices, key=lambda c: c.index)]
    votes = Counter(answers)
    return votes.most_common(1)[0][0] if votes else None
