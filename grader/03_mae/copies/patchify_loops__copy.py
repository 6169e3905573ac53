# cell: patchify
# why: the same patchify copied from a classmate: renamed, the loop variables changed, the flat view made after the table, a comment added
# expect: full
def patchify(imgs, patch_size):
    n, c, H, W = imgs.shape
    g = W // patch_size
    table = []
    for a in range(g):
        for b in range(g):
            for r in range(patch_size):
                for s in range(patch_size):
                    table.append((a * patch_size + r) * W + b * patch_size + s)
    # gather every patch's pixels at once
    f = imgs.reshape(n, c, H * W)
    out = f[:, :, torch.tensor(table, device=imgs.device)]
    out = out.reshape(n, c, g * g, patch_size * patch_size)
    return out.permute(0, 2, 3, 1).reshape(n, g * g, patch_size * patch_size * c)
