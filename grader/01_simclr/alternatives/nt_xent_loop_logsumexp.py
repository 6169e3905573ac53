# cell: nt_xent_loss
# why: an explicit loop over the 2N anchors with logsumexp over the other views, diagonal removed by indexing
# expect: full
def nt_xent_loss(z1, z2, temperature):
    n = z1.shape[0]
    z = torch.cat([z1, z2], dim=0)
    sim = pairwise_cosine_similarity(z, z) / temperature
    losses = []
    for i in range(2 * n):
        others = torch.cat([sim[i, :i], sim[i, i + 1:]])  # the 2N - 1 candidates
        positive = sim[i, (i + n) % (2 * n)]
        losses.append(torch.logsumexp(others, dim=0) - positive)
    return torch.stack(losses).mean()
