"""One module per task: how to build its model and its (degraded input, clean target) batches."""
