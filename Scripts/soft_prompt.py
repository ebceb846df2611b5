"""The soft prompt as RecAlign applies it, in PyTorch, shared by make_prompt_golden.py and ref_prompt_tune.py."""


def embed_with_prompt(model, tok, texts, prompt, pool_all, max_len=128):
    """Mean-pooled, L2-normalised embeddings [B, C] of `texts` with `prompt` [P, C] spliced in after [CLS].

    inputs_embeds = [CLS] + prompt + the text's other tokens (the text keeps its own max_len budget), position
    ids 0..T+P-1 over the longer sequence, token types 0, attention mask extended with ones for the virtual
    tokens; mean pooling over the text's tokens, or over the virtual ones too when `pool_all`."""
    import torch
    import torch.nn.functional as F
    enc = tok(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    b, t = ids.shape
    p = prompt.shape[0]
    we = model.get_input_embeddings()(ids)
    x = torch.cat([we[:, :1], prompt.unsqueeze(0).expand(b, -1, -1), we[:, 1:]], dim=1)
    ones = torch.ones(b, p, dtype=mask.dtype)
    attn = torch.cat([mask[:, :1], ones, mask[:, 1:]], dim=1)
    pool = attn if pool_all else torch.cat([mask[:, :1], 0 * ones, mask[:, 1:]], dim=1)
    h = model(inputs_embeds=x, attention_mask=attn, position_ids=torch.arange(t + p).unsqueeze(0).expand(b, -1),
              token_type_ids=torch.zeros(b, t + p, dtype=torch.long)).last_hidden_state
    m = pool.unsqueeze(-1).to(h.dtype)
    return F.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), p=2, dim=1)
