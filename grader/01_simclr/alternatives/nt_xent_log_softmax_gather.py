# cell: nt_xent_loss
# why: log_softmax over a matrix whose diagonal is pushed to -inf with a large negative, then the positives picked out by gather
# expect: full
def nt_xent_loss(z1, z2, temperature):
    views = torch.cat((z1, z2))
    count = views.shape[0]
    sims = pairwise_cosine_similarity(views, views) / temperature
    eye = torch.eye(count, dtype=torch.bool)
    sims = torch.where(eye, torch.full_like(sims, float("-inf")), sims)
    half = count // 2
    partner = torch.cat([torch.arange(half, count), torch.arange(0, half)])
    log_probs = torch.log_softmax(sims, dim=1)
    return -log_probs.gather(1, partner[:, None]).mean()
