# cell: masked_attention
# why: masked entries are found by looking for zeros after multiplying by the mask, so genuine zero scores are masked too
def masked_attention(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    scores = scores * mask
    scores = scores.masked_fill(scores == 0, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
