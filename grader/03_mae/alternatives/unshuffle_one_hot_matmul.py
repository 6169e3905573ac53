# cell: unshuffle
# why: a one-hot permutation matrix built from ids_restore, applied with einsum to the visible tokens followed by the mask tokens (every output is one token times 1 plus zeros: the values come through exactly)
# expect: full
def unshuffle(x, mask_token, ids_restore):
    B, K1, D = x.shape
    L = ids_restore.shape[1]
    shuffled = torch.cat([x[:, 1:], mask_token.repeat(B, L - (K1 - 1), 1)], dim=1)  # (B, L, D)
    permutation = F.one_hot(ids_restore, L).to(x.dtype)  # (B, L, L): row l picks entry ids_restore[:, l]
    return torch.cat([x[:, :1], torch.einsum("blk,bkd->bld", permutation, shuffled)], dim=1)
