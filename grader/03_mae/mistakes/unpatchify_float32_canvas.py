# cell: unpatchify
# why: pastes the patches into torch.zeros(B, C, H, W), a float32 canvas, so float64 patches come back as float32 images
# feedback: the images do not keep the patches' dtype (torch.zeros without dtype= is float32)
def unpatchify(patches, patch_size):
    B, L, D = patches.shape
    p = patch_size
    h = math.isqrt(L)
    C = D // (p * p)
    imgs = torch.zeros(B, C, h * p, h * p, device=patches.device)
    for i in range(h):
        for j in range(h):
            block = patches[:, i * h + j].reshape(B, p, p, C).permute(0, 3, 1, 2)  # (B, C, p, p)
            imgs[:, :, i * p:(i + 1) * p, j * p:(j + 1) * p] = block
    return imgs
