# cell: patchify
# why: a student's own patchify: an index table built with loops over the grid and the pixels of a patch, then one gather of the flattened image (copy-detection corpus)
# expect: full
def patchify(imgs, patch_size):
    batch, chans, height, width = imgs.shape
    cells = width // patch_size
    flat = imgs.reshape(batch, chans, height * width)
    index = []
    for gi in range(cells):
        for gj in range(cells):
            for u in range(patch_size):
                for v in range(patch_size):
                    index.append((gi * patch_size + u) * width + gj * patch_size + v)
    picked = flat[:, :, torch.tensor(index, device=imgs.device)]
    picked = picked.reshape(batch, chans, cells * cells, patch_size * patch_size)
    return picked.permute(0, 2, 3, 1).reshape(batch, cells * cells, patch_size * patch_size * chans)
