# cell: unshuffle
# why: gathers with argsort(ids_restore), i.e. ids_shuffle, applying the shuffle a second time instead of undoing it
# feedback: gather with ids_restore itself: position l takes entry ids_restore[:, l] of the shuffled sequence
def unshuffle(x, mask_token, ids_restore):
    B, K1, D = x.shape
    L = ids_restore.shape[1]
    mask_tokens = mask_token.expand(B, L + 1 - K1, D)
    shuffled = torch.cat([x[:, 1:], mask_tokens], dim=1)
    ids_shuffle = torch.argsort(ids_restore, dim=1)
    restored = torch.gather(shuffled, 1, ids_shuffle.unsqueeze(-1).expand(-1, -1, D))
    return torch.cat([x[:, :1], restored], dim=1)
