# cell: causal_mask
# why: broadcasting a comparison of positions: key index <= query index
# expect: full
def causal_mask(T):
    positions = torch.arange(T)
    return positions[None, :] <= positions[:, None]
