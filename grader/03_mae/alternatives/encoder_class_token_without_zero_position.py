# cell: mae_encoder
# why: skips the class token's position embedding (row 0 of pos_embed is all zeros, so adding it changes nothing), repeats the token instead of expanding it, and runs the blocks and the final norm in one loop
# expect: full
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        tokens = self.patch_embed(patchify(imgs, self.patch_size)) + self.pos_embed[:, 1:, :]
        visible, mask, ids_restore = random_masking(tokens, mask_ratio, noise=noise, generator=generator)
        batch = visible.shape[0]
        h = torch.cat((self.cls_token.repeat(batch, 1, 1), visible), dim=1)
        layers = list(self.blocks) + [self.norm]
        for layer in layers:
            h = layer(h)
        return h, mask, ids_restore
