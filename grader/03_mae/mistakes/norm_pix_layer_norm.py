# cell: mae_loss
# why: normalises the target patches with F.layer_norm, which uses the biased variance (and its own epsilon)
# feedback: F.layer_norm normalises with the biased variance; norm_pix uses the unbiased variance plus 1e-6
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        target = F.layer_norm(target, target.shape[-1:], eps=1e-6)
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()
