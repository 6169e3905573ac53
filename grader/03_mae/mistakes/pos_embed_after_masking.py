# cell: mae_encoder
# why: adds the position embeddings after masking, so the k-th kept patch gets position k instead of its own
# feedback: the position embeddings are added after masking: each kept patch must carry its own position, so add them before random_masking
class MAEEncoder(MAEEncoderBase):
    def forward(self, imgs, mask_ratio, noise=None, generator=None):
        x = self.patch_embed(patchify(imgs, self.patch_size))
        x, mask, ids_restore = random_masking(x, mask_ratio, noise, generator)
        x = x + self.pos_embed[:, 1 : x.size(1) + 1]
        cls = self.cls_token + self.pos_embed[:, :1]
        x = torch.cat([cls.expand(x.size(0), -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x), mask, ids_restore
