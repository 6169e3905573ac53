# cell: lm_loss
# why: the losses are summed over positions and averaged over the batch only, not averaged over all B * (T - 1) predictions
def lm_loss(logits, idx):
    B, T, V = logits.shape
    pred = logits[:, :-1].reshape(B * (T - 1), V)
    target = idx[:, 1:].reshape(B * (T - 1))
    return F.cross_entropy(pred, target, reduction="sum") / B
