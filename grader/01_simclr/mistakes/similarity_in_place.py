# cell: cosine_similarity
# why: the rows are normalised in place (a /= ...), which changes the caller's tensors and breaks autograd on leaves
def pairwise_cosine_similarity(a, b):
    a /= a.norm(dim=1, keepdim=True).clamp_min(1e-8)
    b /= b.norm(dim=1, keepdim=True).clamp_min(1e-8)
    return a @ b.T
