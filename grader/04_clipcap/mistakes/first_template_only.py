# cell: zero_shot_classifier
# why: uses only the first template: no ensemble
# feedback: embed the class in every template and average the normalised embeddings
def zero_shot_classifier(encode_text, classnames, templates):
    emb = encode_text([templates[0].format(name) for name in classnames])
    return F.normalize(emb, dim=-1)
