# cell: sampling
# why: top-k zeroes the other logits and then masks every zero, so a genuine logit of exactly 0 among the top k is dropped
def next_token_distribution(logits, temperature=1.0, top_k=None):
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, -1:]
        logits = logits * (logits >= kth)
        logits = logits.masked_fill(logits == 0, float("-inf"))
    return torch.softmax(logits, dim=-1)


def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    probs = next_token_distribution(logits, temperature, top_k)
    return torch.multinomial(probs, num_samples=1, generator=generator)
