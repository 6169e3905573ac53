# cell: lm_loss
# why: the same loss copied from a classmate: renamed, the target lines moved below the prediction lines, an unused shape check and comments added
# expect: full
def lm_loss(logits, idx):
    B, T = idx.shape  # not needed
    preds = logits[:, :-1, :]
    V = preds.shape[-1]
    flat_preds = preds.reshape(-1, V)

    # the next token at every position
    tgt = idx[:, 1:]
    flat_tgt = tgt.reshape(-1, 1)
    lp = torch.log_softmax(flat_preds, dim=-1)
    picked = torch.gather(lp, 1, flat_tgt)
    return -picked.mean()
