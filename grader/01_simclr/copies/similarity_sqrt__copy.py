# cell: cosine_similarity
# why: the same cosine copied from a classmate: renamed, the dot products computed first, the two norms swapped, comments and blank lines added
# expect: full
def pairwise_cosine_similarity(a, b):
    # all dot products at once
    products = torch.matmul(a, b.transpose(0, 1))

    # avoid dividing by zero
    eps = torch.tensor(1e-8, dtype=a.dtype)
    len_b = torch.maximum(torch.sqrt(torch.sum(b * b, dim=1, keepdim=True)), eps)
    len_a = torch.maximum(torch.sqrt(torch.sum(a * a, dim=1, keepdim=True)), eps)

    return products / (len_a * len_b.transpose(0, 1))
