# cell: clip_loss
# why: casts the features and the scale to float64 "for stability", so float32 features give a float64 loss
# feedback: compute in the features' dtype: the loss of float32 features is a float32 tensor
def clip_loss(image_features, text_features, logit_scale):
    image_features = F.normalize(image_features.double(), dim=-1)  # (N, D)
    text_features = F.normalize(text_features.double(), dim=-1)  # (N, D)
    logits = logit_scale.double().exp() * image_features @ text_features.T  # (N, N)
    labels = torch.arange(logits.shape[0], device=logits.device)  # (N,)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
