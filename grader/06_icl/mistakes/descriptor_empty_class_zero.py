# cell: classify_by_descriptions
# why: a class without descriptors gets NaN scores instead of a ValueError
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    images = F.normalize(image_embeddings.float(), dim=-1)  # (N, D)
    columns = []
    for name, texts in descriptors.items():
        text = F.normalize(encode_text(list(texts)).float(), dim=-1)  # (K, D)
        columns.append((images @ text.T).mean(dim=1))  # (N,)
    return torch.stack(columns, dim=1)  # (N, C)
