# cell: nt_xent_loss
# why: a student's own loss, written with an explicit loop over anchors (copy-detection corpus)
# expect: full
def nt_xent_loss(z1, z2, temperature):
    # normalise every view so that dot products are cosines
    views = torch.cat([z1, z2], dim=0)
    views = views / views.norm(dim=1, keepdim=True).clamp_min(1e-8)
    total_views = views.shape[0]
    half = total_views // 2
    losses = []
    for anchor in range(total_views):
        sims = views[anchor] @ views.T / temperature
        others = torch.cat([sims[:anchor], sims[anchor + 1:]])
        positive = sims[(anchor + half) % total_views]
        losses.append(torch.logsumexp(others, dim=0) - positive)
    return torch.stack(losses).mean()
