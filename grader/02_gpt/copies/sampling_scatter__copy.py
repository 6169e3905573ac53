# cell: sampling
# why: the same sampler copied from a classmate: names changed, the two functions' comments rewritten
# expect: full
def next_token_distribution(logits, temperature=1.0, top_k=None):
    # temperature first
    z = logits / temperature
    if top_k is not None:
        kk = min(top_k, z.shape[-1])
        vals, pos = torch.topk(z, kk, dim=-1)
        masked = torch.full_like(z, float("-inf")).scatter(-1, pos, vals)
        threshold = vals[..., -1:]
        z = torch.where(z >= threshold, z, masked)
    return torch.softmax(z, dim=-1)


def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    # greedy when the temperature is zero
    if temperature == 0:
        return torch.argmax(logits, dim=-1, keepdim=True)
    p = next_token_distribution(logits, temperature=temperature, top_k=top_k)
    return torch.multinomial(p, 1, generator=generator)
