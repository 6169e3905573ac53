# cell: masked_attention
# why: einsum for both products and torch.where with -inf for the mask
# expect: full
def masked_attention(q, k, v, mask):
    head = q.shape[-1]
    logits = torch.einsum("bhqd,bhkd->bhqk", q, k) * head ** -0.5
    logits = torch.where(mask, logits, torch.tensor(float("-inf"), dtype=logits.dtype))
    attn = logits.softmax(dim=-1)
    return torch.einsum("bhqk,bhkd->bhqd", attn, v)
