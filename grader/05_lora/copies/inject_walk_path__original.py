# cell: inject_lora
# why: a student's own injection: a found flag per target, the parent reached by walking the dotted path (copy-detection corpus)
# expect: full
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    model.requires_grad_(False)
    todo = []
    for target in target_modules:
        found = False
        for name, module in model.named_modules():
            if isinstance(module, nn.Linear) and (name == target or name.endswith("." + target)):
                todo.append(name)
                found = True
        if not found:
            raise ValueError("no layer called " + target)
    for name in set(todo):
        *path, last = name.split(".")
        parent = model
        for part in path:
            parent = getattr(parent, part)
        setattr(parent, last, LoRALinear(getattr(parent, last), r, alpha, dropout))
    return model
