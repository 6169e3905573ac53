# cell: patchify
# why: the MAE authors' own formulation: reshape, then einsum 'nchpwq->nhwpqc'
# expect: full
def patchify(imgs, patch_size):
    n, c, height, width = imgs.shape
    p = patch_size
    grid_h, grid_w = height // p, width // p
    x = imgs.reshape(n, c, grid_h, p, grid_w, p)
    x = torch.einsum("nchpwq->nhwpqc", x)
    return x.reshape(n, grid_h * grid_w, p * p * c)
