# cell: self_consistency
# why: raises for n = 1 (n <= 1), though one chain is a valid (if pointless) vote
def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n <= 1:
        raise ValueError("need at least two chains to vote")
    reply = client.completions.create(model=model, prompt=cot_prompt(question, demos), n=n, temperature=temperature,
                                      max_tokens=40, stop=["\n"])
    answers = [extract_final_answer(c.text) for c in sorted(reply.choices, key=lambda c: c.index)]
    votes = Counter(a for a in answers if a is not None)
    return votes.most_common(1)[0][0] if votes else None
