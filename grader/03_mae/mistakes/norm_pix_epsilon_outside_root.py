# cell: mae_loss
# why: adds the 1e-6 to the standard deviation instead of to the variance under the square root
# feedback: norm_pix must divide by sqrt(var + 1e-6), with the epsilon under the square root
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        std = target.std(dim=-1, keepdim=True)
        target = (target - mean) / (std + 1e-6)
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()
