# cell: collapse
# why: embedding_std normalises z in place, which changes the caller's embeddings
def alignment_only_loss(z1, z2):
    z1 = z1 / z1.norm(dim=1, keepdim=True).clamp_min(1e-8)
    z2 = z2 / z2.norm(dim=1, keepdim=True).clamp_min(1e-8)
    return -(z1 * z2).sum(dim=1).mean()


def embedding_std(z):
    z /= z.norm(dim=1, keepdim=True).clamp_min(1e-8)
    return z.std(dim=0).mean()
