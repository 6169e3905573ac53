# cell: mae_loss
# why: selects the removed patches with a boolean mask and averages over them; the normalised target through torch.std
# expect: full
def mae_loss(pred, target, mask, norm_pix=False):
    goal = target
    if norm_pix:
        centred = goal - goal.mean(-1, keepdim=True)
        goal = centred / torch.sqrt(goal.std(-1, keepdim=True) ** 2 + 1e-6)
    errors = (pred - goal).pow(2).mean(-1)
    return errors[mask.bool()].mean()
