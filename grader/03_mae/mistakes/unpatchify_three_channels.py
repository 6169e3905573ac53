# cell: unpatchify
# why: assumes three channels instead of computing C = D // (p * p)
# feedback: the number of channels is fixed at 3 instead of being read off the patch length
def unpatchify(patches, patch_size):
    B, L, D = patches.shape
    p = patch_size
    h = math.isqrt(L)
    x = patches.reshape(B, h, h, p, p, 3)
    x = x.permute(0, 5, 1, 3, 2, 4)
    return x.reshape(B, 3, h * p, h * p)
