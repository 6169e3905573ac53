# cell: causal_mask
# why: the complement of the strictly upper triangle
# expect: full
def causal_mask(T):
    future = torch.triu(torch.ones(T, T), diagonal=1).bool()
    return ~future
