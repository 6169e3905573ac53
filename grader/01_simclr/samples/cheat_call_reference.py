# cell: nt_xent_loss
# why: calls the course's reference implementation instead of writing it
# expect: zero
from vlcourse.simclr import nt_xent_loss as _reference


def nt_xent_loss(z1, z2, temperature):
    return _reference(z1, z2, temperature)
