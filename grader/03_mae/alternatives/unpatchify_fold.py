# cell: unpatchify
# why: torch.nn.functional.fold, the inverse of unfold: reorder each patch to (channel, row, column) and let fold place the blocks
# expect: full
def unpatchify(patches, patch_size):
    k = patch_size
    b, n_patches, length = patches.shape
    ch = length // (k * k)
    out_side = math.isqrt(n_patches) * k
    cols = patches.reshape(b, n_patches, k * k, ch).permute(0, 3, 2, 1)  # (B, C, p*p, L)
    cols = cols.reshape(b, ch * k * k, n_patches)
    return F.fold(cols, output_size=(out_side, out_side), kernel_size=k, stride=k)
