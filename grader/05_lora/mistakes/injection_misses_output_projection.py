# cell: inject_lora
# why: hard-codes the query/key/value projection and never adapts attn.c_proj
# feedback: the attention's output projection attn.c_proj is not adapted
def inject_lora(model, target_modules, r, alpha, dropout=0.0):
    model.requires_grad_(False)
    for block in model.h:
        block.attn.c_attn = LoRALinear(block.attn.c_attn, r, alpha, dropout)
    return model
