# cell: masked_attention
# why: q is scaled in place (q /= sqrt(hs)), which changes the caller's queries and breaks autograd
def masked_attention(q, k, v, mask):
    q /= math.sqrt(q.size(-1))
    scores = q @ k.transpose(-2, -1)
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
