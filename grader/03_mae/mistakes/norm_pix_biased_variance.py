# cell: mae_loss
# why: normalises with the biased variance (unbiased=False) instead of torch.var's default, unbiased one
# feedback: norm_pix uses the biased variance; the MAE code uses the unbiased one (torch.var's default)
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True, unbiased=False)
        target = (target - mean) / (var + 1e-6) ** 0.5
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()
