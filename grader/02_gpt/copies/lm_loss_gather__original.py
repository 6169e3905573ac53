# cell: lm_loss
# why: a student's own loss: predictions and targets sliced, log-probabilities picked with gather on the flattened tensors, averaged (copy-detection corpus)
# expect: full
def lm_loss(logits, idx):
    predictions = logits[:, :-1, :]
    targets = idx[:, 1:]
    vocab_size = predictions.shape[-1]
    flat_predictions = predictions.reshape(-1, vocab_size)
    flat_targets = targets.reshape(-1, 1)
    log_probs = torch.log_softmax(flat_predictions, dim=-1)
    chosen = torch.gather(log_probs, 1, flat_targets)
    return -chosen.mean()
