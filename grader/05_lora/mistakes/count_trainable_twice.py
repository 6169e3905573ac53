# cell: count_parameters
# why: returns the trainable count in both places
# feedback: the total counts only the trainable parameters
def count_parameters(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, trainable
