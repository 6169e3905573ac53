# cell: zero_shot_classifier
# why: embeds all C x T prompts in one call, then normalises, averages and renormalises with reshapes
# expect: full
def zero_shot_classifier(encode_text, classnames, templates):
    prompts = [t.format(c) for c in classnames for t in templates]
    emb = encode_text(prompts)
    emb = emb / emb.norm(dim=-1, keepdim=True)
    emb = emb.reshape(len(classnames), len(templates), -1).mean(dim=1)
    return emb / emb.norm(dim=-1, keepdim=True)
