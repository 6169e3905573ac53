# cell: cosine_similarity
# why: the norms are detached, so the values are right but the gradients are not those of the cosine similarity
def pairwise_cosine_similarity(a, b):
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-8).detach()
    b = b / b.norm(dim=1, keepdim=True).clamp_min(1e-8).detach()
    return a @ b.T
