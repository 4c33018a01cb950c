"""The network in torch: embeddings, recurrent encoders, the training CRF, batches and devices."""
