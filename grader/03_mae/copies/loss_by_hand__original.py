# cell: mae_loss
# why: a student's own loss: statistics written out with sums, the squared error averaged with a division, the removed patches picked by torch.where (copy-detection corpus)
# expect: full
def mae_loss(pred, target, mask, norm_pix=False):
    values = target.shape[-1]
    if norm_pix:
        centre = target.sum(dim=-1, keepdim=True) / values
        spread = ((target - centre) ** 2).sum(dim=-1, keepdim=True) / (values - 1)
        target = (target - centre) / torch.sqrt(spread + 1e-6)
    diff = pred - target
    error = (diff * diff).sum(dim=-1) / values
    removed = torch.where(mask > 0.5, error, torch.zeros_like(error))
    return removed.sum() / (mask > 0.5).sum()
