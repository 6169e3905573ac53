# cell: mae_loss
# why: averages the error over every patch, visible ones included, ignoring the mask
# feedback: the loss also scores the visible patches; average over the removed patches only
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6) ** 0.5
    return ((pred - target) ** 2).mean()
