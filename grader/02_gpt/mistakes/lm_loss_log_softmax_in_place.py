# cell: lm_loss
# why: a hand-written log-softmax subtracts the row maximum in place (logits -= ...), changing the caller's logits and breaking autograd
def lm_loss(logits, idx):
    B, T, V = logits.shape
    logits -= logits.amax(dim=-1, keepdim=True)
    log_probs = logits - logits.exp().sum(dim=-1, keepdim=True).log()
    picked = log_probs[:, :-1].gather(-1, idx[:, 1:, None])  # (B, T - 1, 1)
    return -picked.mean()
