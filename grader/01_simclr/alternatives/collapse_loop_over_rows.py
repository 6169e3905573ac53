# cell: collapse
# why: the alignment loss accumulated row by row; the spread via torch.var
# expect: full
def alignment_only_loss(z1, z2):
    total = 0.0
    for u, v in zip(z1, z2):
        total = total + (u @ v) / (u.norm().clamp_min(1e-8) * v.norm().clamp_min(1e-8))
    return -total / z1.shape[0]


def embedding_std(z):
    rows = [row / row.norm().clamp_min(1e-8) for row in z]
    stacked = torch.stack(rows)
    return torch.var(stacked, dim=0, unbiased=True).sqrt().mean()
