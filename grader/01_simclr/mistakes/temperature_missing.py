# cell: nt_xent_loss
# why: the temperature is ignored
def nt_xent_loss(z1, z2, temperature):
    n = z1.shape[0]
    z = torch.cat([z1, z2], dim=0)
    logits = pairwise_cosine_similarity(z, z)
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    positives = (torch.arange(2 * n) + n) % (2 * n)
    return torch.nn.functional.cross_entropy(logits, positives)
