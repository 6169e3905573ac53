# cell: self_consistency
# why: votes over the chains' raw text and parses the winner: chains that agree on the answer but differ in wording split their votes
def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    reply = client.completions.create(model=model, prompt=cot_prompt(question, demos), n=n, temperature=temperature,
                                      max_tokens=40, stop=["\n"])
    chains = [c.text for c in sorted(reply.choices, key=lambda c: c.index)]
    winner = Counter(chains).most_common(1)[0][0]
    return extract_final_answer(winner)
