# cell: patchify
# why: the patches are listed column by column over the grid instead of row by row
# feedback: the patches are in the wrong order: column by column instead of row by row
def patchify(imgs, patch_size):
    B, C, H, W = imgs.shape
    p = patch_size
    h, w = H // p, W // p
    x = imgs.reshape(B, C, h, p, w, p)
    x = x.permute(0, 4, 2, 3, 5, 1)  # (B, w, h, p, p, C)
    return x.reshape(B, h * w, p * p * C)
