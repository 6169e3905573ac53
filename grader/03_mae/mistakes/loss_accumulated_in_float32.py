# cell: mae_loss
# why: sums the errors patch by patch into torch.tensor(0.0), a float32 accumulator, so a float64 loss comes back as float32
# feedback: the loss does not keep the inputs' dtype (torch.tensor(0.0) is float32 and += keeps its dtype)
def mae_loss(pred, target, mask, norm_pix=False):
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6) ** 0.5
    total = torch.tensor(0.0)
    count = torch.tensor(0.0)
    B, L, _ = pred.shape
    for n in range(B):
        for l in range(L):
            total += ((pred[n, l] - target[n, l]) ** 2).mean() * mask[n, l]
            count += mask[n, l]
    return total / count
