# cell: mae_encoder
# why: returns the last block's output without the final LayerNorm
# feedback: the encoder's output skips the final LayerNorm (self.norm)
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        x = self.patch_embed(patchify(imgs, self.patch_size))
        x = x + self.pos_embed[:, 1:]
        x, mask, ids_restore = random_masking(x, mask_ratio, noise, generator)
        cls = self.cls_token + self.pos_embed[:, :1]
        x = torch.cat([cls.expand(x.size(0), -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        return x, mask, ids_restore
