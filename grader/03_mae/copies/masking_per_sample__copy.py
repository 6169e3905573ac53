# cell: random_masking
# why: the same masking copied from a classmate: names changed, the two lists set up on their own lines, comments added
# expect: full
def random_masking(x, mask_ratio, noise=None, generator=None):
    n, L, d = x.shape
    # how many we keep
    k = int(L * (1 - mask_ratio))
    if noise is None:
        noise = torch.rand(n, L, generator=generator, device=x.device)
    masks = []
    kept = []
    restores = []
    for i in range(n):
        perm = torch.sort(noise[i]).indices
        inv = torch.zeros(L, dtype=torch.long, device=x.device)
        # invert the permutation by hand
        for pos, tok in enumerate(perm.tolist()):
            inv[tok] = pos
        kept.append(x[i, perm[:k]])
        masks.append((inv >= k).to(x.dtype))
        restores.append(inv)
    return torch.stack(kept), torch.stack(masks), torch.stack(restores)
