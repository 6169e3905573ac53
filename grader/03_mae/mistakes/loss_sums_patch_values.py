# cell: mae_loss
# why: sums the squared errors over each patch's values instead of averaging them
# feedback: the error of a patch is the mean of its squared differences, not their sum
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6) ** 0.5
    per_patch = ((pred - target) ** 2).sum(dim=-1)
    return (per_patch * mask).sum() / mask.sum()
