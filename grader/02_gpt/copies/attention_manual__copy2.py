# cell: masked_attention
# why: a third student's copy of the hand-written softmax attention: renamed, a sanity assert and blank lines added, the scale written as a separate variable
# expect: full
def masked_attention(q, k, v, mask):
    d = q.shape[-1]
    assert k.shape[-1] == d

    s = torch.matmul(q, k.transpose(-1, -2)) / d ** 0.5
    s = s.masked_fill(mask.logical_not(), float("-inf"))

    s = s - s.amax(dim=-1, keepdim=True)
    ex = torch.exp(s)
    p = ex / ex.sum(dim=-1, keepdim=True)
    return torch.matmul(p, v)
