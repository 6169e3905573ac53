# cell: patchify
# why: torch.nn.functional.unfold with kernel = stride = p gives (B, C*p*p, L) in (channel, row, column) order; a reshape and a permute make it (row, column, channel)
# expect: full
def patchify(imgs, patch_size):
    size = patch_size
    batch, channels = imgs.shape[0], imgs.shape[1]
    if not imgs.is_floating_point():  # unfold wants floating point; every integer value fits exactly in float64
        return patchify(imgs.double(), size).to(imgs.dtype)
    cols = F.unfold(imgs, kernel_size=size, stride=size)  # (B, C*p*p, L)
    count = cols.shape[-1]
    cols = cols.reshape(batch, channels, size * size, count)
    return cols.permute(0, 3, 2, 1).reshape(batch, count, size * size * channels)
