# cell: clip_loss
# why: only the image -> text direction (softmax over each row); the text -> image cross-entropy is left out
# feedback: the loss scores only images picking their caption; average it with captions picking their image (the columns)
def clip_loss(image_features, text_features, logit_scale):
    image_features = F.normalize(image_features, dim=-1)
    text_features = F.normalize(text_features, dim=-1)
    logits = logit_scale.exp() * image_features @ text_features.T
    labels = torch.arange(logits.shape[0])
    return F.cross_entropy(logits, labels)
