"""A prompt's tokens, computed once per engine.

An in-process engine tokenizes a prompt twice unless told otherwise: once when the review stage
asks how many tokens it takes (to fit the tool's sources into the context), and again when the
request built from that prompt is handed to the model. `PromptTokens` keeps the last few
prompts' tokens, so the second time is a look-up. It is shared by the event loop (counting) and
the engine's worker thread (building), hence the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from panel.engines.base import Prompt

T = TypeVar("T")

# Prompts kept. A prompt is counted just before its request is sent, so only the few counted
# since (other requests joining the batch, the cuts tried while fitting sources) come between.
KEPT_PROMPTS = 64


class PromptTokens(Generic[T]):
    """`tokens(prompt)` runs `tokenize` once per prompt while the prompt is among the last
    `kept` asked for; an engine calls it both to count and to build."""

    def __init__(self, tokenize: Callable[[Prompt], T], kept: int = KEPT_PROMPTS):
        self.tokenize = tokenize
        self.kept = kept
        self._tokens: OrderedDict[Prompt, T] = OrderedDict()
        self._lock = threading.Lock()

    def tokens(self, prompt: Prompt) -> T:
        with self._lock:
            if prompt in self._tokens:
                self._tokens.move_to_end(prompt)
                return self._tokens[prompt]
        tokens = self.tokenize(prompt)  # outside the lock: the other thread need not wait for it
        with self._lock:
            self._tokens[prompt] = tokens
            while len(self._tokens) > self.kept:
                self._tokens.popitem(last=False)
        return tokens

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
