# cell: unshuffle
# why: advanced indexing instead of gather: one mask token appended after the visible tokens, and every removed patch (its place in the shuffle is K or later) pointed at it
# expect: full
def unshuffle(x, mask_token, ids_restore):
    B, K1, D = x.shape
    padded = torch.cat([x[:, 1:], mask_token.expand(B, 1, D)], dim=1)  # the mask token sits at index K
    index = ids_restore.clamp(max=K1 - 1)
    rows = torch.arange(B, device=x.device)[:, None]
    return torch.cat([x[:, :1], padded[rows, index]], dim=1)
