# cell: clip_loss
# why: adds the two cross-entropies instead of averaging them (twice the loss)
# feedback: return the mean of the two directions, (image -> text + text -> image) / 2
def clip_loss(image_features, text_features, logit_scale):
    image_features = F.normalize(image_features, dim=-1)
    text_features = F.normalize(text_features, dim=-1)
    logits = logit_scale.exp() * image_features @ text_features.T
    labels = torch.arange(logits.shape[0])
    return F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)
