# cell: nt_xent_loss
# why: the same loss copied from a classmate: names changed, independent lines reordered, comments rewritten
# expect: full
def nt_xent_loss(z1, z2, temperature):
    # stack both augmentations and scale them to unit length
    stacked = torch.cat([z1, z2], dim=0)
    stacked = stacked / stacked.norm(dim=1, keepdim=True).clamp_min(1e-8)
    m = stacked.shape[0]
    terms = []
    h = m // 2

    for idx in range(m):
        row = stacked[idx] @ stacked.T / temperature
        rest = torch.cat([row[:idx], row[idx + 1:]])
        pos = row[(idx + h) % m]
        terms.append(torch.logsumexp(rest, dim=0) - pos)
    # average over every anchor
    return torch.stack(terms).mean()
