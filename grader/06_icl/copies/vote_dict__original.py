# cell: self_consistency
# why: a student's own self-consistency: answers tallied in a dict with their first position (copy-detection corpus)
# expect: full
def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n <= 0:
        raise ValueError("need at least one chain")
    response = client.completions.create(
        model=model, prompt=cot_prompt(question, demos), n=n, temperature=temperature, max_tokens=40, stop=["\n"]
    )
    tally, first_seen = {}, {}
    for position, choice in enumerate(sorted(response.choices, key=lambda ch: ch.index)):
        final = extract_final_answer(choice.text)
        if final is None:
            continue
        tally[final] = tally.get(final, 0) + 1
        first_seen.setdefault(final, position)
    if len(tally) == 0:
        return None
    return min(tally, key=lambda a: (-tally[a], first_seen[a]))
