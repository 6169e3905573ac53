# cell: train_step
# why: a student's own training step: the projections of both views collected in a loop, the loss value returned with .cpu().item() (copy-detection corpus)
# expect: full
def train_step(model, optimizer, x1, x2, loss_fn):
    model.train()
    optimizer.zero_grad()
    projections = []
    for view in (x1, x2):
        features, projection = model(view)
        projections.append(projection)
    loss = loss_fn(projections[0], projections[1])
    loss.backward()
    optimizer.step()
    return loss.detach().cpu().item()
