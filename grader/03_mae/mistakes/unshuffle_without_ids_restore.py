# cell: unshuffle
# why: appends the mask tokens but never undoes the shuffle, so visible patches sit at the front instead of at their own positions
# feedback: the sequence is not put back in patch order: gather with ids_restore after appending the mask tokens
def unshuffle(x, mask_token, ids_restore):
    B, K1, D = x.shape
    L = ids_restore.shape[1]
    mask_tokens = mask_token.expand(B, L + 1 - K1, D)
    return torch.cat([x, mask_tokens], dim=1)
