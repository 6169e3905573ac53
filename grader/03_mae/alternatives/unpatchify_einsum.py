# cell: unpatchify
# why: the MAE authors' formulation: reshape to (N, h, w, p, q, C), einsum 'nhwpqc->nchpwq', reshape
# expect: full
def unpatchify(patches, patch_size):
    n, length, dim = patches.shape
    q = patch_size
    grid = int(round(length ** 0.5))
    chans = dim // (q * q)
    t = patches.reshape(n, grid, grid, q, q, chans)
    t = torch.einsum("nhwpqc->nchpwq", t)
    return t.reshape(n, chans, grid * q, grid * q)
