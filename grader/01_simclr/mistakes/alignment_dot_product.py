# cell: collapse
# why: alignment_only_loss uses raw dot products instead of cosine similarities
def alignment_only_loss(z1, z2):
    return -(z1 * z2).sum(dim=1).mean()


def embedding_std(z):
    z = z / z.norm(dim=1, keepdim=True).clamp_min(1e-8)
    return z.std(dim=0).mean()
