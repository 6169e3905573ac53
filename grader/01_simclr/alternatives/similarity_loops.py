# cell: cosine_similarity
# why: a loop over the rows of a, each row compared with all of b at once
# expect: full
def pairwise_cosine_similarity(a, b):
    b_unit = b / torch.clamp(torch.sqrt((b * b).sum(dim=1, keepdim=True)), min=1e-8)
    rows = []
    for row in a:
        length = torch.clamp(torch.sqrt((row * row).sum()), min=1e-8)
        rows.append(b_unit @ (row / length))
    return torch.stack(rows)
