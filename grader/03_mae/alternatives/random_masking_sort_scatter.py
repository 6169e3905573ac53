# cell: random_masking
# why: torch.sort for the shuffle, the inverse permutation by scatter, the mask by scattering zeros at the kept positions
# expect: full
def random_masking(x, mask_ratio, noise=None, generator=None):
    batch, length, width = x.shape
    n_keep = int(length * (1 - mask_ratio))
    if noise is None:
        noise = torch.rand(batch, length, generator=generator, device=x.device)
    _, order = torch.sort(noise, dim=1)
    positions = torch.arange(length, device=x.device).expand(batch, length)
    inverse = torch.empty_like(order).scatter_(1, order, positions)
    keep = order[:, :n_keep]
    kept = torch.gather(x, 1, keep[:, :, None].repeat(1, 1, width))
    removed = torch.ones(batch, length, dtype=x.dtype, device=x.device).scatter(1, keep, 0.0)
    return kept, removed, inverse
