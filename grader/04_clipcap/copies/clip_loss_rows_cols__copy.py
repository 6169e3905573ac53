# cell: clip_loss
# why: the same loss copied from a classmate: names changed, the two directions swapped, comments added
# expect: full
def clip_loss(image_features, text_features, logit_scale):
    # unit vectors
    a = image_features / image_features.norm(dim=1, keepdim=True)
    b = text_features / text_features.norm(dim=1, keepdim=True)
    s = a @ b.T * logit_scale.exp()
    size = s.shape[0]
    diag = torch.arange(size)
    # columns: text -> image
    t2i = -s.log_softmax(dim=0)[diag, diag].sum() / size
    # rows: image -> text
    i2t = -s.log_softmax(dim=1)[diag, diag].sum() / size
    return 0.5 * (t2i + i2t)
