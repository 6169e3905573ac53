# cell: count_parameters
# why: the same count copied from a classmate: names changed, the two sums swapped, a comment added
# expect: full
def count_parameters(model):
    # one entry per distinct tensor
    distinct = {}
    for n, t in model.named_parameters(remove_duplicate=False):
        distinct.setdefault(t.data_ptr(), t)
    n_train = 0
    n_all = 0
    for t in distinct.values():
        if t.requires_grad:
            n_train += t.numel()
        n_all += t.numel()
    return n_train, n_all
