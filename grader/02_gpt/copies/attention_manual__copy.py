# cell: masked_attention
# why: the same attention copied from a classmate: names changed, comments added, one line split in two
# expect: full
def masked_attention(q, k, v, mask):
    # head size
    hs = q.shape[-1]
    att = torch.matmul(q, k.transpose(-1, -2)) / hs ** 0.5
    # block the future
    att = att.masked_fill(mask.logical_not(), float("-inf"))
    att = att - att.amax(dim=-1, keepdim=True)
    e = torch.exp(att)
    w = e / e.sum(dim=-1, keepdim=True)
    out = torch.matmul(w, v)
    return out
