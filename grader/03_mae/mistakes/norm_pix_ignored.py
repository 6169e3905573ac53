# cell: mae_loss
# why: ignores the norm_pix option and always scores the raw pixels
# feedback: with norm_pix=True the target patches must be normalised
def mae_loss(pred, target, mask, norm_pix=False):
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()
