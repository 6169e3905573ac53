# cell: train_step
# why: the same step copied from a classmate: renamed, an unused step counter added, comments rewritten
# expect: full
def train_step(model, optimizer, x1, x2, loss_fn):
    step_count = 0  # not used
    model.train()
    # clear old gradients
    optimizer.zero_grad()
    outs = []
    for batch in (x1, x2):
        h, out = model(batch)
        outs.append(out)
    value = loss_fn(outs[0], outs[1])
    value.backward()
    optimizer.step()
    step_count += 1
    return value.detach().cpu().item()
