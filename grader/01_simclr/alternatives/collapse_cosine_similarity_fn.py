# cell: collapse
# why: torch.nn.functional.cosine_similarity for the alignment and an explicit unbiased variance for the spread
# expect: full
def alignment_only_loss(z1, z2):
    return -torch.nn.functional.cosine_similarity(z1, z2, dim=1, eps=1e-8).mean()


def embedding_std(z):
    unit = z / torch.linalg.norm(z, dim=1, keepdim=True).clamp(min=1e-8)
    centred = unit - unit.mean(dim=0, keepdim=True)
    variance = (centred ** 2).sum(dim=0) / (unit.shape[0] - 1)
    return variance.sqrt().mean()
