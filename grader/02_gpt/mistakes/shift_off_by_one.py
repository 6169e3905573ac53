# cell: lm_loss
# why: the shift is off by one: logits[:, t] is paired with idx[:, t + 2]
def lm_loss(logits, idx):
    B, T, V = logits.shape
    pred = logits[:, :-2].reshape(-1, V)
    target = idx[:, 2:].reshape(-1)
    return F.cross_entropy(pred, target)
