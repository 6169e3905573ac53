# cell: causal_mask
# why: the mask has the right pattern but is a float tensor of ones and zeros, not a bool tensor
def causal_mask(T):
    return torch.tril(torch.ones(T, T))
