# cell: classify_by_descriptions
# why: computes in float64 (casting both sides with .double()) with F.cosine_similarity, and returns float64 scores
# expect: full
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    if any(len(texts) == 0 for texts in descriptors.values()):
        raise ValueError("every class needs at least one descriptor")
    images = image_embeddings.double()
    columns = []
    for texts in descriptors.values():
        text = encode_text(list(texts)).double()
        columns.append(F.cosine_similarity(images[:, None, :], text[None, :, :], dim=-1).mean(dim=1))
    return torch.stack(columns, dim=1)
