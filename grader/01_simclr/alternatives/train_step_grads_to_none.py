# cell: train_step
# why: the gradients cleared by hand (p.grad = None for every parameter), both projections computed inside the loss call
# expect: full
def train_step(model, optimizer, x1, x2, loss_fn):
    for p in model.parameters():
        p.grad = None
    loss = loss_fn(model(x1)[1], model(x2)[1])
    loss.backward()
    optimizer.step()
    return loss.detach().item()
