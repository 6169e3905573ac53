# cell: cosine_similarity
# why: a small eps added to the norms (instead of a clamp) and einsum instead of a matrix product
# expect: full
def pairwise_cosine_similarity(a, b):
    a_hat = a / (torch.linalg.vector_norm(a, dim=1, keepdim=True) + 1e-8)
    b_hat = b / (torch.linalg.vector_norm(b, dim=1, keepdim=True) + 1e-8)
    return torch.einsum("nd,md->nm", a_hat, b_hat)
