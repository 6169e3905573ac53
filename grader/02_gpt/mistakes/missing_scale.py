# cell: masked_attention
# why: the scores are not divided by sqrt(head size)
def masked_attention(q, k, v, mask):
    scores = q @ k.transpose(-2, -1)
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
