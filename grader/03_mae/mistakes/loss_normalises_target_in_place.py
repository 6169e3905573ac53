# cell: mae_loss
# why: normalises the target in place (sub_, div_), changing the caller's patches
# feedback: the target is modified in place; compute a new tensor instead
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target.sub_(mean).div_((var + 1e-6) ** 0.5)
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()
