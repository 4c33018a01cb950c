"""The one shape rule that makes a sentence's result independent of its batch.

Inference batches hold a multiple of ROW_MULTIPLE sentences (and of distinct words, and of encoder
windows): every matrix product of the model then has a multiple of 8 rows, where BLAS computes
each row the same way whatever the other rows are (measured for MKL and onnxruntime's MLAS;
tests/themes/test_batch_invariance.py holds it), so a sentence's parse does not depend on the
batch it is in.
"""

ROW_MULTIPLE = 8
