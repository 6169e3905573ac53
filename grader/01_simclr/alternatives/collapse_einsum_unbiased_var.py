# cell: collapse
# why: a small helper that normalises rows, einsum for the row-wise dot products, torch.var for the spread
# expect: full
def _unit(x):
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp(min=1e-8)


def alignment_only_loss(z1, z2):
    return -torch.einsum("nd,nd->n", _unit(z1), _unit(z2)).mean()


def embedding_std(z):
    return _unit(z).var(dim=0).sqrt().mean()
