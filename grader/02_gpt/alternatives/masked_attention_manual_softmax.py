# cell: masked_attention
# why: einsum scores, disallowed entries set to the dtype's lowest value, softmax written out with the maximum subtracted
# expect: full
def masked_attention(q, k, v, mask):
    hs = q.shape[-1]
    scores = torch.einsum("bhid,bhjd->bhij", q, k) * hs ** -0.5  # (B, nh, T, T)
    scores = torch.where(mask, scores, torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype))
    scores = scores - scores.amax(dim=-1, keepdim=True)
    weights = scores.exp() * mask
    weights = weights / weights.sum(dim=-1, keepdim=True)
    return torch.einsum("bhij,bhjd->bhid", weights, v)
