# cell: random_masking
# why: copies the kept tokens into torch.zeros(B, K, D), a float32 buffer, so float64 tokens come back as float32
# feedback: the kept tokens do not have x's dtype (torch.zeros without dtype= is float32): select them with torch.gather
def random_masking(x, mask_ratio, noise=None, generator=None):
    B, L, D = x.shape
    len_keep = int(L * (1 - mask_ratio))
    if noise is None:
        noise = torch.rand(B, L, generator=generator, device=x.device)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    x_kept = torch.zeros(B, len_keep, D, device=x.device)
    for n in range(B):
        x_kept[n] = x[n, ids_shuffle[n, :len_keep]]
    mask = torch.ones(B, L, dtype=x.dtype, device=x.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return x_kept, mask, ids_restore
