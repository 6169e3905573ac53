# cell: collapse
# why: the same cell copied from a classmate: helper renamed, variable names changed, functions reordered
# expect: full
def _normed(x):
    norms = torch.sqrt((x ** 2).sum(dim=1, keepdim=True))
    return x / torch.clamp(norms, min=1e-8)


def embedding_std(z):
    s = torch.std(_normed(z), dim=0, unbiased=True)
    return s.mean()


def alignment_only_loss(z1, z2):
    cos = (_normed(z1) * _normed(z2)).sum(dim=1)
    return -cos.mean()
