# cell: unpatchify
# why: patch rows and columns are swapped when putting the grid back, so every image comes out transposed
# feedback: the reassembled images are transposed: patch-row and patch-column axes are swapped
def unpatchify(patches, patch_size):
    B, L, D = patches.shape
    p = patch_size
    h = math.isqrt(L)
    C = D // (p * p)
    x = patches.reshape(B, h, h, p, p, C)
    x = x.permute(0, 5, 2, 4, 1, 3)  # (B, C, w, p, h, p)
    return x.reshape(B, C, h * p, h * p)
