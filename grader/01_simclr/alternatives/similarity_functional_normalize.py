# cell: cosine_similarity
# why: torch.nn.functional.normalize (its own eps) and torch.mm
# expect: full
def pairwise_cosine_similarity(a, b):
    unit_a = torch.nn.functional.normalize(a, p=2, dim=1, eps=1e-8)
    unit_b = torch.nn.functional.normalize(b, p=2, dim=1, eps=1e-8)
    return torch.mm(unit_a, unit_b.t())
