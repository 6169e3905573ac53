# cell: masked_attention
# why: PyTorch's scaled_dot_product_attention with the boolean mask as attn_mask
# expect: full
def masked_attention(q, k, v, mask):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
