# cell: random_masking
# why: advanced indexing with a batch index instead of gather; the mask read off ids_restore (a token is removed when its place in the shuffle is K or later)
# expect: full
def random_masking(x, mask_ratio, noise=None, generator=None):
    B, L, _ = x.shape
    K = int(L * (1 - mask_ratio))
    if noise is None:
        noise = torch.rand(B, L, generator=generator, device=x.device)
    shuffle = noise.argsort(dim=1)
    restore = shuffle.argsort(dim=1)
    rows = torch.arange(B, device=x.device)[:, None]
    x_kept = x[rows, shuffle[:, :K]]
    mask = (restore >= K).to(x.dtype)
    return x_kept, mask, restore
