# cell: random_masking
# why: draws fresh noise whenever a generator is given, even when noise was passed in (the noise it was given must win)
# feedback: with noise given, the masks must come from that noise; draw noise (with the generator) only when noise is None
def random_masking(x, mask_ratio, noise=None, generator=None):
    B, L, D = x.shape
    len_keep = int(L * (1 - mask_ratio))
    if noise is None or generator is not None:
        noise = torch.rand(B, L, generator=generator, device=x.device)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
    mask = torch.ones(B, L, dtype=x.dtype, device=x.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return x_kept, mask, ids_restore
