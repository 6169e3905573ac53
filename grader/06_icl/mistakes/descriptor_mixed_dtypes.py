# cell: classify_by_descriptions
# why: never casts to one dtype: float64 images with float32 text embeddings (or the other way round) fail in the matrix product
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    images = F.normalize(image_embeddings, dim=-1)  # (N, D)
    columns = []
    for name, texts in descriptors.items():
        if len(texts) == 0:
            raise ValueError(f"class {name!r} has no descriptors")
        text = F.normalize(encode_text(list(texts)), dim=-1)  # (K, D)
        columns.append((images @ text.T).mean(dim=1))  # (N,)
    return torch.stack(columns, dim=1)  # (N, C)
