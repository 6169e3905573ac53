# cell: random_masking
# why: without a generator it draws from a new torch.Generator() (always the same seed) instead of the global one, so every call gives the same masks
# feedback: without noise and generator the noise must come from the global random generator (torch.rand(B, L, generator=None)); a new torch.Generator() repeats the same masks every step
def random_masking(x, mask_ratio, noise=None, generator=None):
    B, L, D = x.shape
    len_keep = int(L * (1 - mask_ratio))
    if noise is None:
        if generator is None:
            generator = torch.Generator(device=x.device)
        noise = torch.rand(B, L, generator=generator, device=x.device)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
    mask = torch.ones(B, L, dtype=x.dtype, device=x.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return x_kept, mask, ids_restore
