# cell: cosine_similarity
# why: a student's own cosine: norms from the square root of the sum of squares, a guard against zero rows with torch.maximum (copy-detection corpus)
# expect: full
def pairwise_cosine_similarity(a, b):
    tiny = torch.tensor(1e-8, dtype=a.dtype)
    norm_a = torch.maximum(torch.sqrt(torch.sum(a * a, dim=1, keepdim=True)), tiny)
    norm_b = torch.maximum(torch.sqrt(torch.sum(b * b, dim=1, keepdim=True)), tiny)
    dots = torch.matmul(a, b.transpose(0, 1))
    return dots / (norm_a * norm_b.transpose(0, 1))
