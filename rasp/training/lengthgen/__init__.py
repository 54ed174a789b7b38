"""Length generalisation: causal transformers trained by next-token prediction on short sequences of
the RASP-L paper's tasks, tested on longer ones (docs/lengthgen.md).

tasks: the sequence formats and their Python oracles; data: next-token data whose targets come from
the RASP-L programs (stdlib/raspl_tasks.rasp) where they exist; experiment: training and per-length
evaluation. Needs the [train] extra (JAX, optax) for experiment only.
"""
