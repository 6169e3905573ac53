# cell: patchify
# why: inside a patch the values are ordered (channel, row, column), as a convolution's weight is, instead of (row, column, channel)
# feedback: the values inside each patch are in the wrong order: channel first instead of row, column, channel
def patchify(imgs, patch_size):
    B, C, H, W = imgs.shape
    p = patch_size
    h, w = H // p, W // p
    x = imgs.reshape(B, C, h, p, w, p)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (B, h, w, C, p, p)
    return x.reshape(B, h * w, p * p * C)
