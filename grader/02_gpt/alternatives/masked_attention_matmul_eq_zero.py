# cell: masked_attention
# why: torch.matmul and an explicit scale factor; blocked positions found with mask == 0; F.softmax
# expect: full
def masked_attention(q, k, v, mask):
    scale = 1.0 / math.sqrt(k.shape[-1])
    att = torch.matmul(q, k.transpose(-1, -2)) * scale
    att = att.masked_fill(mask == 0, float("-inf"))
    att = F.softmax(att, dim=-1)
    return torch.matmul(att, v)
