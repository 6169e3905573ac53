# cell: cosine_similarity
# why: only the rows of a are normalised
def pairwise_cosine_similarity(a, b):
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-8)
    return a @ b.T
