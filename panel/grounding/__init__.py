"""Grounding: each review's claims checked against the tool's material, and draft-quality flags.

Pure: text in, claims and flags out. No store, no engines, no I/O. `refresh` is the entry point;
`rules` and the modules it reads (`facts`, `judge`, `prices`, `kinds`, `figures`, `names`,
`spans`) are the deterministic rules layer; `material` splits the material into sentences;
`memo` is where grounding keeps its results, so a command grounds each review once.
"""
