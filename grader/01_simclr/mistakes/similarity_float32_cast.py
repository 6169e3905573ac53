# cell: cosine_similarity
# why: the inputs are converted to float32, so float64 inputs lose their precision
def pairwise_cosine_similarity(a, b):
    a, b = a.float(), b.float()
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-8)
    b = b / b.norm(dim=1, keepdim=True).clamp_min(1e-8)
    return a @ b.T
