# cell: lm_loss
# why: flatten with contiguous().view and the negative log-likelihood of log_softmax, averaged by hand
# expect: full
def lm_loss(logits, idx):
    vocab = logits.size(-1)
    shifted = logits[:, :-1, :].contiguous().view(-1, vocab)
    targets = idx[:, 1:].contiguous().view(-1)
    log_probs = torch.log_softmax(shifted, dim=-1)
    picked = log_probs[torch.arange(targets.numel()), targets]
    return -picked.mean()
