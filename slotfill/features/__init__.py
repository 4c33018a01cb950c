"""Tokens to model inputs without torch: the vocabulary, padded feature arrays and gazetteer lists."""
