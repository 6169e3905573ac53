# cell: train_step
# why: the loss is computed on the features h instead of the projections z, and the tensor is returned
def train_step(model, optimizer, x1, x2, loss_fn):
    optimizer.zero_grad()
    h1, _ = model(x1)
    h2, _ = model(x2)
    loss = loss_fn(h1, h2)
    loss.backward()
    optimizer.step()
    return loss
