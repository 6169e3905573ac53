# cell: nt_xent_loss
# why: self-similarity is not excluded from the denominator
def nt_xent_loss(z1, z2, temperature):
    n = z1.shape[0]
    z = torch.cat([z1, z2], dim=0)
    logits = pairwise_cosine_similarity(z, z) / temperature
    positives = (torch.arange(2 * n) + n) % (2 * n)
    return torch.nn.functional.cross_entropy(logits, positives)
