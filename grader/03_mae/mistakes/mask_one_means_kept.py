# cell: random_masking
# why: the mask is 1 for kept tokens and 0 for removed ones, the opposite of the convention
# feedback: the mask has 1 where a token is kept; it must be 1 where a token is removed
def random_masking(x, mask_ratio, noise=None, generator=None):
    B, L, D = x.shape
    len_keep = int(L * (1 - mask_ratio))
    if noise is None:
        noise = torch.rand(B, L, generator=generator, device=x.device)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
    mask = torch.zeros(B, L, dtype=x.dtype, device=x.device)
    mask[:, :len_keep] = 1
    mask = torch.gather(mask, 1, ids_restore)
    return x_kept, mask, ids_restore
