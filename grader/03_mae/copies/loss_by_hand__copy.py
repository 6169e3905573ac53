# cell: mae_loss
# why: the same loss copied from a classmate: names changed, the difference folded into the error line, comments added
# expect: full
def mae_loss(pred, target, mask, norm_pix=False):
    P = target.shape[-1]
    if norm_pix:
        # per-patch normalisation
        m = target.sum(dim=-1, keepdim=True) / P
        v = ((target - m) ** 2).sum(dim=-1, keepdim=True) / (P - 1)
        target = (target - m) / torch.sqrt(v + 1e-6)
    e = ((pred - target) * (pred - target)).sum(dim=-1) / P
    only_removed = torch.where(mask > 0.5, e, torch.zeros_like(e))
    # average over the removed patches
    return only_removed.sum() / (mask > 0.5).sum()
