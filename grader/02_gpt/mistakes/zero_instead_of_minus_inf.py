# cell: masked_attention
# why: disallowed scores are set to 0 instead of -inf, so the future keeps a share of the weight
def masked_attention(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    scores = scores.masked_fill(~mask, 0.0)
    return torch.softmax(scores, dim=-1) @ v
