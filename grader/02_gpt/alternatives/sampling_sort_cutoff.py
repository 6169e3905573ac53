# cell: sampling
# why: the k-th largest value found by sorting; greedy decoding with topk(1)
# expect: full
def next_token_distribution(logits, temperature=1.0, top_k=None):
    scaled = logits / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        ordered, _ = torch.sort(scaled, dim=-1, descending=True)
        cutoff = ordered[..., top_k - 1:top_k]
        scaled = torch.where(scaled < cutoff, torch.full_like(scaled, float("-inf")), scaled)
    return torch.nn.functional.softmax(scaled, dim=-1)


def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return torch.topk(logits, 1, dim=-1).indices
    distribution = next_token_distribution(logits, temperature, top_k)
    return torch.multinomial(distribution, num_samples=1, generator=generator)
