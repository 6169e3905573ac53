# cell: mae_loss
# why: imports the course's reference loss instead of writing it (withheld while grading: the cell fails)
# expect: zero
from vlcourse.mae.loss import mae_loss as _reference


def mae_loss(pred, target, mask, norm_pix=False):
    return _reference(pred, target, mask, norm_pix)
