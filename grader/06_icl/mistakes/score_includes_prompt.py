# cell: score_labels
# why: sums the log-probabilities of the prompt's tokens too, not only the label's
def score_labels(client, prompt, labels, model=MODEL):
    texts = [prompt + " " + label for label in labels]
    response = client.completions.create(model=model, prompt=texts, max_tokens=0, echo=True, logprobs=0)
    scores = [0.0] * len(labels)
    for choice in response.choices:
        lp = choice.logprobs
        scores[choice.index] = sum(value for offset, value in zip(lp.text_offset, lp.token_logprobs)
                                   if value is not None)
    return scores
