# cell: classify_by_descriptions
# why: sorts each class's descriptor list in place (the mean does not care), modifying the caller's dict
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    images = F.normalize(image_embeddings.float(), dim=-1)  # (N, D)
    columns = []
    for name, texts in descriptors.items():
        if len(texts) == 0:
            raise ValueError(f"class {name!r} has no descriptors")
        texts.sort()
        text = F.normalize(encode_text(list(texts)).float(), dim=-1)  # (K, D)
        columns.append((images @ text.T).mean(dim=1))  # (N,)
    return torch.stack(columns, dim=1)  # (N, C)
