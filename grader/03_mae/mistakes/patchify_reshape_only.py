# cell: patchify
# why: a single reshape to (B, L, p*p*C): the "patches" are runs of consecutive memory, not square blocks of pixels
# feedback: the rows of the result are not square blocks of the image: a reshape alone cannot gather a patch's pixels
def patchify(imgs, patch_size):
    B, C, H, W = imgs.shape
    L = (H // patch_size) * (W // patch_size)
    return imgs.reshape(B, L, patch_size * patch_size * C)
