# cell: lm_loss
# why: F.cross_entropy with the vocabulary as dimension 1 of a (B, V, T-1) tensor, no flattening
# expect: full
def lm_loss(logits, idx):
    return F.cross_entropy(logits[:, :-1].transpose(1, 2), idx[:, 1:])
