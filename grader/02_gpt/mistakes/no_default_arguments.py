# cell: sampling
# why: the signatures drop the promised defaults (temperature=1.0, top_k=None), so calls that rely on them fail
def next_token_distribution(logits, temperature, top_k):
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.softmax(logits, dim=-1)


def sample_next(logits, temperature, top_k, generator):
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    probs = next_token_distribution(logits, temperature, top_k)
    return torch.multinomial(probs, num_samples=1, generator=generator)
