# cell: sampling
# why: the k-th largest logit found with torch.kthvalue, everything below it masked with masked_fill; greedy via max
# expect: full
def next_token_distribution(logits, temperature=1.0, top_k=None):
    logits = logits / temperature
    vocab = logits.shape[-1]
    if top_k is not None and top_k < vocab:
        threshold = torch.kthvalue(logits, vocab - top_k + 1, dim=-1, keepdim=True).values
        logits = logits.masked_fill(logits < threshold, -float("inf"))
    return F.softmax(logits, dim=-1)


def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return logits.max(dim=-1, keepdim=True).indices
    probs = next_token_distribution(logits, temperature=temperature, top_k=top_k)
    return torch.multinomial(probs, num_samples=1, generator=generator)
