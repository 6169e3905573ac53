# cell: nt_xent_loss
# why: the loss written as two directions, each anchor set against the full set of other views, then averaged
# expect: full
def nt_xent_loss(z1, z2, temperature):
    a = z1 / z1.norm(dim=1, keepdim=True).clamp_min(1e-8)
    b = z2 / z2.norm(dim=1, keepdim=True).clamp_min(1e-8)
    n = a.shape[0]
    inf = float("inf")
    ab = a @ b.T / temperature
    aa = (a @ a.T / temperature).masked_fill(torch.eye(n, dtype=torch.bool), -inf)
    bb = (b @ b.T / temperature).masked_fill(torch.eye(n, dtype=torch.bool), -inf)
    first = torch.logsumexp(torch.cat([ab, aa], dim=1), dim=1) - ab.diagonal()
    second = torch.logsumexp(torch.cat([ab.T, bb], dim=1), dim=1) - ab.diagonal()
    return (first.sum() + second.sum()) / (2 * n)
