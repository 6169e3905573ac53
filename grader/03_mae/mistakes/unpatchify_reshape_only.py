# cell: unpatchify
# why: a single reshape back to (B, C, H, W), which does not undo the permutation inside patchify
# feedback: the image is reassembled without undoing patchify's reordering of axes
def unpatchify(patches, patch_size):
    B, L, D = patches.shape
    C = D // (patch_size * patch_size)
    side = math.isqrt(L) * patch_size
    return patches.reshape(B, C, side, side)
