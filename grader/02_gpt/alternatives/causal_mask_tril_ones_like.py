# cell: causal_mask
# why: torch.tril of a boolean matrix of ones built with torch.full
# expect: full
def causal_mask(T):
    return torch.tril(torch.full((T, T), True))
