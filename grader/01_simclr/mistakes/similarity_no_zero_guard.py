# cell: cosine_similarity
# why: the norms are not clamped, so an all-zero row gives nan
def pairwise_cosine_similarity(a, b):
    a = a / a.norm(dim=1, keepdim=True)
    b = b / b.norm(dim=1, keepdim=True)
    return a @ b.T
