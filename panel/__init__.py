"""panel: persona panel reviews of newly launched tools, generated on vLLM with constrained decoding."""

__version__ = "0.1.0"
