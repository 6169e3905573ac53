# cell: clip_loss
# why: multiplies the similarities by logit_scale itself instead of exp(logit_scale)
# feedback: logit_scale is the logarithm of the inverse temperature; multiply by logit_scale.exp()
def clip_loss(image_features, text_features, logit_scale):
    image_features = F.normalize(image_features, dim=-1)
    text_features = F.normalize(text_features, dim=-1)
    logits = logit_scale * image_features @ text_features.T
    labels = torch.arange(logits.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
