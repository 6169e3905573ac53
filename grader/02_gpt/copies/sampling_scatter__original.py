# cell: sampling
# why: a student's own sampler: top-k kept by scattering the top values into a -inf tensor (copy-detection corpus)
# expect: full
def next_token_distribution(logits, temperature=1.0, top_k=None):
    logits = logits / temperature
    if top_k is not None:
        keep = min(top_k, logits.shape[-1])
        values, positions = torch.topk(logits, keep, dim=-1)
        filtered = torch.full_like(logits, float("-inf")).scatter(-1, positions, values)
        kth = values[..., -1:]
        logits = torch.where(logits >= kth, logits, filtered)
    return torch.softmax(logits, dim=-1)


def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return torch.argmax(logits, dim=-1, keepdim=True)
    probs = next_token_distribution(logits, temperature=temperature, top_k=top_k)
    return torch.multinomial(probs, 1, generator=generator)
