# cell: clip_loss
# why: log-softmax over rows and over columns of one similarity matrix, the diagonal read off directly
# expect: full
def clip_loss(image_features, text_features, logit_scale):
    sims = F.normalize(image_features, dim=1) @ F.normalize(text_features, dim=1).t()
    logits = sims * torch.exp(logit_scale)
    per_image = torch.diagonal(torch.log_softmax(logits, dim=1))
    per_text = torch.diagonal(torch.log_softmax(logits, dim=0))
    return -(per_image.mean() + per_text.mean()) / 2
