# cell: mae_loss
# why: names the option norm_pix_loss (as in MAEConfig) instead of norm_pix, so mae_loss(..., norm_pix=True) fails
# feedback: keep the signature mae_loss(pred, target, mask, norm_pix=False): the option is called norm_pix
def mae_loss(pred, target, mask, norm_pix_loss=False):
    if norm_pix_loss:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6) ** 0.5
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()
