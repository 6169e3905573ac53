# cell: zero_shot_classifier
# why: averages the raw template embeddings and normalises only the average, so long embeddings dominate the ensemble
# feedback: normalise each template's embedding before averaging, then normalise the average
def zero_shot_classifier(encode_text, classnames, templates):
    rows = []
    for name in classnames:
        emb = encode_text([t.format(name) for t in templates])
        rows.append(F.normalize(emb.mean(dim=0), dim=-1))
    return torch.stack(rows)
