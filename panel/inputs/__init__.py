"""The pipeline's inputs: tool files, feeds of tools, and the reviewer personas."""
