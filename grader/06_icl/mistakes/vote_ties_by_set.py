# cell: self_consistency
# why: max(set(answers), key=answers.count) breaks ties by the set's (hash) order, not by which answer came first
def self_consistency(client, question, n, model=MODEL, demos=(), temperature=0.7):
    if n < 1:
        raise ValueError("n must be >= 1")
    reply = client.completions.create(model=model, prompt=cot_prompt(question, demos), n=n, temperature=temperature,
                                      max_tokens=40, stop=["\n"])
    answers = [extract_final_answer(c.text) for c in sorted(reply.choices, key=lambda c: c.index)]
    answers = [a for a in answers if a is not None]
    return max(set(answers), key=answers.count) if answers else None
