# cell: patchify
# why: a loop over the grid: slice each p x p block, move the channel last, flatten, stack the patches row by row
# expect: full
def patchify(imgs, patch_size):
    side = imgs.shape[-1] // patch_size
    blocks = []
    for row in range(side):
        for col in range(side):
            block = imgs[:, :, row * patch_size:(row + 1) * patch_size, col * patch_size:(col + 1) * patch_size]
            blocks.append(block.permute(0, 2, 3, 1).flatten(start_dim=1))
    return torch.stack(blocks, dim=1)
