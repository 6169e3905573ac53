# cell: clip_loss
# why: turns the logit scale into a Python number, so no gradient reaches the learnable temperature
# feedback: keep logit_scale a tensor (logit_scale.exp(), not math.exp(logit_scale.item())) so the temperature learns
def clip_loss(image_features, text_features, logit_scale):
    image_features = F.normalize(image_features, dim=-1)
    text_features = F.normalize(text_features, dim=-1)
    logits = math.exp(logit_scale.item()) * image_features @ text_features.T
    labels = torch.arange(logits.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
