# cell: classify_by_descriptions
# why: sums the similarities over a class's descriptors instead of averaging: classes with more descriptors win
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    images = F.normalize(image_embeddings.float(), dim=-1)  # (N, D)
    columns = []
    for name, texts in descriptors.items():
        if len(texts) == 0:
            raise ValueError(f"class {name!r} has no descriptors")
        text = F.normalize(encode_text(list(texts)).float(), dim=-1)  # (K, D)
        columns.append((images @ text.T).sum(dim=1))  # (N,)
    return torch.stack(columns, dim=1)  # (N, C)
