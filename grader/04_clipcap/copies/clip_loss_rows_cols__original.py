# cell: clip_loss
# why: a student's own loss: cosine similarities by hand, the two directions as two log-softmaxes (copy-detection corpus)
# expect: full
def clip_loss(image_features, text_features, logit_scale):
    img_unit = image_features / image_features.norm(dim=1, keepdim=True)
    txt_unit = text_features / text_features.norm(dim=1, keepdim=True)
    scores = img_unit @ txt_unit.T * logit_scale.exp()
    n = scores.shape[0]
    idx = torch.arange(n)
    img_to_txt = -scores.log_softmax(dim=1)[idx, idx].sum() / n
    txt_to_img = -scores.log_softmax(dim=0)[idx, idx].sum() / n
    return 0.5 * (img_to_txt + txt_to_img)
