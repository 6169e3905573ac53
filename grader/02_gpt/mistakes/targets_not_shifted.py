# cell: lm_loss
# why: the targets are not shifted: each position is scored against its own token, not the next one
def lm_loss(logits, idx):
    B, T, V = logits.shape
    return F.cross_entropy(logits.reshape(B * T, V), idx.reshape(B * T))
