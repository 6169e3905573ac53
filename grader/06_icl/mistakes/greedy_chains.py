# cell: self_consistency
# why: samples at temperature 0: every chain is the same, the vote means nothing
def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    reply = client.completions.create(model=model, prompt=cot_prompt(question, demos), n=n, temperature=0,
                                      max_tokens=40, stop=["\n"])
    answers = [extract_final_answer(c.text) for c in sorted(reply.choices, key=lambda c: c.index)]
    votes = Counter(a for a in answers if a is not None)
    return votes.most_common(1)[0][0] if votes else None
