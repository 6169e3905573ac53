# cell: nt_xent_loss
# why: a student's own vectorised loss: the diagonal filled with -inf in place on a copy, positives picked by advanced indexing, the loss as logsumexp minus the positive (copy-detection corpus)
# expect: full
def nt_xent_loss(z1, z2, temperature):
    batch = z1.shape[0]
    everything = torch.cat([z1, z2], dim=0)
    scores = pairwise_cosine_similarity(everything, everything) / temperature
    scores = scores.clone()
    scores.fill_diagonal_(float("-inf"))
    rows = torch.arange(2 * batch)
    partners = torch.cat([torch.arange(batch, 2 * batch), torch.arange(0, batch)])
    positive_scores = scores[rows, partners]
    per_row = torch.logsumexp(scores, dim=1) - positive_scores
    return per_row.mean()
