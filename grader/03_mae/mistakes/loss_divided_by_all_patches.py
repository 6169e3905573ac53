# cell: mae_loss
# why: zeroes the visible patches' errors but divides by the number of all patches, (loss * mask).mean()
# feedback: divide by the number of removed patches (mask.sum()), not by the number of all patches
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6) ** 0.5
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).mean()
