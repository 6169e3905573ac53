# cell: classify_by_descriptions
# why: normalises the image embeddings in place: the caller's tensor changes
def classify_by_descriptions(image_embeddings, encode_text, descriptors):
    image_embeddings /= image_embeddings.norm(dim=-1, keepdim=True)
    images = image_embeddings.float()  # (N, D)
    columns = []
    for name, texts in descriptors.items():
        if len(texts) == 0:
            raise ValueError(f"class {name!r} has no descriptors")
        text = F.normalize(encode_text(list(texts)).float(), dim=-1)  # (K, D)
        columns.append((images @ text.T).mean(dim=1))  # (N,)
    return torch.stack(columns, dim=1)  # (N, C)
