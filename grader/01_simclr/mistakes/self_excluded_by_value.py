# cell: nt_xent_loss
# why: the self-similarities are found by their value (cosine 1), so a positive identical to its anchor is excluded too
def nt_xent_loss(z1, z2, temperature):
    n = z1.shape[0]
    z = torch.cat([z1, z2], dim=0)
    sim = pairwise_cosine_similarity(z, z)
    logits = (sim / temperature).masked_fill(torch.isclose(sim, torch.ones_like(sim)), float("-inf"))
    positives = (torch.arange(2 * n) + n) % (2 * n)
    return torch.nn.functional.cross_entropy(logits, positives)
