# cell: classify_by_descriptions
# why: the descriptor embeddings are not normalised: dot products, not cosine similarities
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    images = F.normalize(image_embeddings.float(), dim=-1)  # (N, D)
    columns = []
    for name, texts in descriptors.items():
        if len(texts) == 0:
            raise ValueError(f"class {name!r} has no descriptors")
        text = encode_text(list(texts)).float()  # (K, D)
        columns.append((images @ text.T).mean(dim=1))  # (N,)
    return torch.stack(columns, dim=1)  # (N, C)
