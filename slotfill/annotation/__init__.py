"""Learning from use: rank utterances by the model's doubt, and the annotation session that
corrects them into training data (`slotfill annotate`)."""
