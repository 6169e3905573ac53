# cell: causal_mask
# why: the diagonal is excluded (tril(-1)): a position may not attend to itself, and position 0 sees nothing
def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).tril(-1)
