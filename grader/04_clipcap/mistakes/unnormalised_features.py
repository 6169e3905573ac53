# cell: clip_loss
# why: dot products of the raw features instead of cosine similarities (no L2 normalisation)
# feedback: the features arrive unnormalised; L2-normalise each row before the dot products
def clip_loss(image_features, text_features, logit_scale):
    logits = logit_scale.exp() * image_features @ text_features.T
    labels = torch.arange(logits.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
