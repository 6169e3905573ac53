# cell: self_consistency
# why: n requests of one chain each, votes counted in a dict with first-seen order
# expect: full
def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n < 1:
        raise ValueError("n must be at least 1")
    prompt = cot_prompt(question, demos)
    counts = {}
    for _ in range(n):
        r = client.completions.create(model=model, prompt=prompt, temperature=temperature, max_tokens=40, stop="\n")
        answer = extract_final_answer(r.choices[0].text)
        if answer is not None:
            counts[answer] = counts.get(answer, 0) + 1
    if not counts:
        return None
    best = max(counts.values())
    return next(a for a, c in counts.items() if c == best)
