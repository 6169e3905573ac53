# cell: classify_by_descriptions
# why: averages the descriptor embeddings and compares with the mean (a prompt ensemble), not the mean of the similarities
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    images = F.normalize(image_embeddings.float(), dim=-1)  # (N, D)
    columns = []
    for name, texts in descriptors.items():
        if len(texts) == 0:
            raise ValueError(f"class {name!r} has no descriptors")
        text = F.normalize(encode_text(list(texts)).float(), dim=-1)  # (K, D)
        columns.append(images @ F.normalize(text.mean(dim=0), dim=-1))  # (N,)
    return torch.stack(columns, dim=1)  # (N, C)
