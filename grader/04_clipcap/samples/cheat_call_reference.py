# cell: clip_loss
# why: imports the course's reference loss instead of writing it (withheld while grading: the cell fails)
# expect: zero
from vlcourse.clip.loss import clip_loss as _reference


def clip_loss(image_features, text_features, logit_scale):
    return _reference(image_features, text_features, logit_scale)
