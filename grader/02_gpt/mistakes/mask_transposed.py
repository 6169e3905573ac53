# cell: causal_mask
# why: the mask is transposed (upper triangle): each position sees the future instead of the past
def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).triu()
