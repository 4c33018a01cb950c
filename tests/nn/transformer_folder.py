"""A tiny transformer written for the tests: a 2-layer, 16-wide BERT (random weights, seeded)
with a WordPiece vocabulary of the demo data's words and single letters, saved as a Hugging Face
model folder the way any published one is (config.json, model.safetensors, tokenizer.json)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import DEMO

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def write_transformer_folder(folder: Path, *, max_positions: int = 64, words: int = 300, seed: int = 0) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel

    counts: dict[str, int] = {}
    for line in (DEMO / "train" / "seq.in").read_text(encoding="utf-8").split():
        counts[line.lower()] = counts.get(line.lower(), 0) + 1
    common = sorted(counts, key=lambda w: (-counts[w], w))[:words]
    pieces = SPECIALS + list(LETTERS) + [f"##{c}" for c in LETTERS] + [w for w in common if w not in LETTERS]
    vocab = {piece: index for index, piece in enumerate(dict.fromkeys(pieces))}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=max_positions,
    )  # fmt: skip
    BertModel(config, add_pooling_layer=False).save_pretrained(str(folder), safe_serialization=True)
    return folder
