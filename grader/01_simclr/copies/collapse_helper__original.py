# cell: collapse
# why: a student's own collapse metrics with a shared helper (copy-detection corpus)
# expect: full
def _unit_rows(matrix):
    lengths = torch.sqrt((matrix ** 2).sum(dim=1, keepdim=True))
    return matrix / torch.clamp(lengths, min=1e-8)


def alignment_only_loss(z1, z2):
    agreement = (_unit_rows(z1) * _unit_rows(z2)).sum(dim=1)
    return -agreement.mean()


def embedding_std(z):
    spread = torch.std(_unit_rows(z), dim=0, unbiased=True)
    return spread.mean()
