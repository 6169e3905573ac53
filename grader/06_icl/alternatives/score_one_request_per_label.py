# cell: score_labels
# why: one request per label, the label's tokens found by their offsets
# expect: full
def score_labels(client, prompt, labels, model=MODEL):
    scores = []
    for label in labels:
        r = client.completions.create(model=model, prompt=prompt + " " + label, max_tokens=0, echo=True, logprobs=0)
        lp = r.choices[0].logprobs
        total = 0.0
        for offset, value in zip(lp.text_offset, lp.token_logprobs):
            if offset >= len(prompt):
                total += value
        scores.append(total)
    return scores
