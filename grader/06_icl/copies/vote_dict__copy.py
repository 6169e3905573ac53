# cell: self_consistency
# why: the same self-consistency copied: names changed, a dead statement and comments added
# expect: full
def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n <= 0:
        raise ValueError("n must be positive")
    # sample the chains
    r = client.completions.create(
        model=model, prompt=cot_prompt(question, demos), n=n, temperature=temperature, max_tokens=40, stop=["\n"]
    )
    debug = False
    counts, where = {}, {}
    for pos, ch in enumerate(sorted(r.choices, key=lambda c: c.index)):
        ans = extract_final_answer(ch.text)
        if ans is None:
            continue
        counts[ans] = counts.get(ans, 0) + 1
        where.setdefault(ans, pos)
    if len(counts) == 0:
        return None
    # most votes, earliest on a tie
    return min(counts, key=lambda a: (-counts[a], where[a]))
