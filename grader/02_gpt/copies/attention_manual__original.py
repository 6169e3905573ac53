# cell: masked_attention
# why: a student's own attention with a hand-written, max-shifted softmax (copy-detection corpus)
# expect: full
def masked_attention(q, k, v, mask):
    dim = q.shape[-1]
    raw = torch.matmul(q, k.transpose(-1, -2)) / dim ** 0.5
    raw = raw.masked_fill(mask.logical_not(), float("-inf"))
    shifted = raw - raw.amax(dim=-1, keepdim=True)
    expd = torch.exp(shifted)
    probs = expd / expd.sum(dim=-1, keepdim=True)
    return torch.matmul(probs, v)
