# cell: count_parameters
# why: counts the total by unfreezing every parameter and counting those that require gradients: the model is left trainable
# feedback: count_parameters changes which parameters require gradients
def count_parameters(model):
    n_trainable = 0
    for weight in model.parameters():
        if weight.requires_grad:
            n_trainable += weight.numel()
    model.requires_grad_(True)  # now every parameter counts
    n_all = 0
    for weight in model.parameters():
        if weight.requires_grad:
            n_all += weight.numel()
    return n_trainable, n_all
