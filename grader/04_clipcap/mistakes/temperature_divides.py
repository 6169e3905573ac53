# cell: clip_loss
# why: divides the similarities by exp(logit_scale), treating the learnt scale as a temperature
# feedback: exp(logit_scale) is the inverse temperature: multiply the similarities by it
def clip_loss(image_features, text_features, logit_scale):
    image_features = F.normalize(image_features, dim=-1)
    text_features = F.normalize(text_features, dim=-1)
    logits = image_features @ text_features.T / logit_scale.exp()
    labels = torch.arange(logits.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
