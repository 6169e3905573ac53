# cell: unshuffle
# why: the other direction: start from mask tokens everywhere and scatter the visible tokens to their positions, which are ids_shuffle[:, :K] = argsort(ids_restore)[:, :K]
# expect: full
def unshuffle(x, mask_token, ids_restore):
    n, visible_plus_cls, dim = x.shape
    num_patches = ids_restore.shape[1]
    positions = torch.argsort(ids_restore, dim=1)[:, : visible_plus_cls - 1]
    canvas = mask_token.expand(n, num_patches, dim)
    placed = canvas.scatter(1, positions[..., None].expand(-1, -1, dim), x[:, 1:])
    return torch.cat((x[:, :1], placed), dim=1)
