# cell: mae_encoder
# why: zeroes the removed patches but keeps all L tokens in the encoder (as BERT does with [MASK]), so the encoder sees every position and runs on all of them
# feedback: the encoder still processes the removed positions; MAE's encoder gets only the K visible patches (and the class token)
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        x = self.patch_embed(patchify(imgs, self.patch_size))
        _, mask, ids_restore = random_masking(x, mask_ratio, noise, generator)
        x = x * (1 - mask.unsqueeze(-1)) + self.pos_embed[:, 1:]
        cls = self.cls_token + self.pos_embed[:, :1]
        x = torch.cat([cls.expand(x.size(0), -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x), mask, ids_restore
