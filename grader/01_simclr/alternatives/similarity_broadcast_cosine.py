# cell: cosine_similarity
# why: torch.nn.functional.cosine_similarity broadcast over an (N, 1, D) and a (1, M, D) tensor
# expect: full
def pairwise_cosine_similarity(a, b):
    return torch.nn.functional.cosine_similarity(a.unsqueeze(1), b.unsqueeze(0), dim=-1, eps=1e-8)
