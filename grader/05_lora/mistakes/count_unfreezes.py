# cell: count_parameters
# why: counts the total by unfreezing every parameter and counting those that require gradients: the model is left trainable
# feedback: count_parameters changes which parameters require gradients
def count_parameters(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    model.requires_grad_(True)
    total = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total
