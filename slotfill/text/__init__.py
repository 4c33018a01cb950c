"""Text in, tokens out: the tokeniser (character offsets kept) and BIO tag sequences."""
