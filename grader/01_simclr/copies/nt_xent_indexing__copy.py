# cell: nt_xent_loss
# why: the same loss copied from a classmate: renamed, the index tensors built before the scores, a docstring and comments added, the clone merged into the division
# expect: full
def nt_xent_loss(z1, z2, temperature):
    """NT-Xent loss from the SimCLR paper."""
    n = z1.shape[0]
    # which row is paired with which
    idx = torch.arange(2 * n)
    pair = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])

    z = torch.cat([z1, z2], dim=0)
    sim = (pairwise_cosine_similarity(z, z) / temperature).clone()
    sim.fill_diagonal_(float("-inf"))  # never compare a view with itself
    pos = sim[idx, pair]
    terms = torch.logsumexp(sim, dim=1) - pos
    return terms.mean()
