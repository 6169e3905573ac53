# cell: mae_loss
# why: divides by the standard deviation without the 1e-6, so flat patches give nan and low-contrast ones explode
# feedback: norm_pix divides by sqrt(var) without adding 1e-6: flat and low-contrast patches break it
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        std = target.std(dim=-1, keepdim=True)
        target = (target - mean) / std
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()
