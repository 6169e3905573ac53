# cell: sampling
# why: top-k by scattering the k largest logits into a row of -inf (k clamped to V), F.softmax; greedy via torch.argmax
# expect: full
def next_token_distribution(logits, temperature=1.0, top_k=None):
    scaled = logits / temperature
    if top_k is not None:
        values, indices = torch.topk(scaled, k=min(int(top_k), scaled.shape[-1]), dim=-1)
        scaled = torch.full_like(scaled, float("-inf")).scatter(-1, indices, values)
    return F.softmax(scaled, dim=-1)


def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return torch.argmax(logits, dim=-1).unsqueeze(-1)
    return torch.multinomial(next_token_distribution(logits, temperature, top_k), 1, generator=generator)
