"""What a model is: `slotfill info`, `Predictor.describe()` and `GET /info` (no torch needed).

Built from a loaded model (a model directory under torch, or an exported one under onnxruntime):
the slotfill and format versions that wrote it, intents, slot types, vocabulary sizes, parameters,
the config, the metrics it was saved with, its gazetteers and the confidences' temperature.
"""

from __future__ import annotations

from typing import Any

from slotfill.features.vocab import slot_names


def slot_types(tags: list[str]) -> list[str]:
    """The slot labels of a tag set, sorted (B-x and I-x give x)."""
    return sorted(slot_names(tags))


def describe(model: Any) -> dict[str, Any]:
    """A JSON-ready description of a loaded model (slotfill.predict.Model)."""
    vocab, metrics = model.vocab, dict(model.metrics)
    exported = getattr(model, "info", None)
    return {
        "kind": "exported (onnxruntime)" if exported is not None else "model directory (torch)",
        "slotfill_version": (exported or metrics).get("slotfill_version"),
        "format_version": (exported or metrics).get("format_version"),
        "intents": list(vocab.intents.items),
        "slot_types": slot_types(vocab.tags.items),
        "vocabulary": {name: len(getattr(vocab, name)) for name in ("words", "chars", "trigrams", "tags", "intents")},
        "parameters": model.parameters,
        "decoder": model.config.model.decoder,
        "temperature": model.temperature,
        "gazetteers": [
            {"name": g.name, "entries": len(g.entries), "source": g.source} for g in model.gazetteers.gazetteers
        ],
        "vectors": _vectors(model, exported is not None),
        "transformer": _transformer(model),
        "metrics": {k: v for k, v in metrics.items() if k not in ("slotfill_version", "format_version")},
        "config": model.config.model_dump(mode="json"),
    }


def _transformer(model: Any) -> dict[str, Any] | None:
    """The transformer a model reads: where it came from, how it is used, its size (an
    exported model's, as export.json records it)."""
    settings = model.config.model.transformer
    if settings is None:
        return None
    described = {
        "source": settings.source,
        "mode": settings.mode,
        "pooling": settings.pooling,
        "layers": settings.layers,
    }
    exported = getattr(model, "info", None)
    if exported is not None:
        recorded = exported.get("encoder") or {}  # export.json's key (its format keeps the 0.3 name)
        return {**described, **{key: recorded.get(key) for key in ("type", "width", "parameters", "bytes")}}
    features = model.transformer_features
    return {
        **described,
        "type": features.model.config.model_type,
        "width": features.size,
        "parameters": features.parameters,
        "bytes": (features.directory / "model.safetensors").stat().st_size,
    }


def _vectors(model: Any, exported: bool) -> dict[str, Any] | None:
    """The pretrained vectors a model keeps: where they came from, how many rows, their size on disk
    (float16 in a model directory, float32 in an exported graph)."""
    vocab, settings = model.vocab, model.config.model.embedding.vectors
    if vocab.vectors is None or settings is None:
        return None
    rows = len(vocab.vectors) - 2  # after PAD and UNK
    return {
        "source": settings.source,
        "join": settings.join,
        "rows": rows,
        "dim": vocab.vector_dim,
        "bytes": rows * vocab.vector_dim * (4 if exported else 2),
    }
