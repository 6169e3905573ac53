# cell: lm_loss
# why: log_softmax and gather on the shifted tensors instead of F.cross_entropy, mean per sequence then over the batch
# expect: full
def lm_loss(logits, idx):
    log_probs = F.log_softmax(logits[:, :-1], dim=-1)  # (B, T-1, V)
    picked = log_probs.gather(-1, idx[:, 1:].unsqueeze(-1)).squeeze(-1)  # (B, T-1)
    return -picked.mean(dim=1).mean()
