# cell: mae_loss
# why: F.mse_loss with reduction="none", the unbiased variance written out with (P - 1), and the mask as weights that sum to one
# expect: full
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        P = target.shape[-1]
        mu = target.sum(-1, keepdim=True) / P
        var = ((target - mu) ** 2).sum(-1, keepdim=True) / (P - 1)
        target = (target - mu) * torch.rsqrt(var + 1e-6)
    squared = F.mse_loss(pred, target, reduction="none").mean(dim=2)
    weights = mask / mask.sum()
    return torch.sum(squared * weights)
