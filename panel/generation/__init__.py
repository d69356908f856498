"""Generating panels: prompts, plans, the review and claims stages, scheduling, assembly, batches.

    planning -> reviewing -> claim_pass (optional) -> scheduling -> assembly -> runner

`session` resolves what one command works with; `compare` merges panels into a comparison;
`batch` streams a feed through the runner; `runs` keeps a batch's folder.
"""
