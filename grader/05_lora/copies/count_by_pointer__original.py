# cell: count_parameters
# why: a student's own count: shared tensors found by their data pointer, loops with running sums (copy-detection corpus)
# expect: full
def count_parameters(model):
    unique = {}
    for name, tensor in model.named_parameters(remove_duplicate=False):
        unique.setdefault(tensor.data_ptr(), tensor)
    total = 0
    trainable = 0
    for tensor in unique.values():
        total += tensor.numel()
        if tensor.requires_grad:
            trainable += tensor.numel()
    return trainable, total
