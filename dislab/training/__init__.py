"""Training one (model, strength, seed) cell: batches on the device, checkpoints, resume, logs."""
