"""PromptTokens: each prompt is tokenized once per engine, however often it is counted or built."""

from __future__ import annotations

import threading

from panel.engines.base import Prompt
from panel.engines.tokens import PromptTokens


def counting() -> tuple[PromptTokens[list[str]], list[Prompt]]:
    seen: list[Prompt] = []

    def tokenize(prompt: Prompt) -> list[str]:
        seen.append(prompt)
        return prompt.display().split()

    return PromptTokens(tokenize, kept=3), seen


def test_a_prompt_counted_then_built_is_tokenized_once():
    tokens, seen = counting()
    prompt = Prompt.plain("chat", "Review this tool in one paragraph.")
    assert tokens.tokens(prompt) == tokens.tokens(Prompt.plain("chat", "Review this tool in one paragraph."))
    assert seen == [prompt]  # an equal prompt, built again from the same text, is the same prompt


def test_only_the_last_few_prompts_are_kept():
    tokens, seen = counting()
    prompts = [Prompt.plain("completion", f"prompt {i}") for i in range(5)]
    for prompt in prompts:
        tokens.tokens(prompt)
    tokens.tokens(prompts[4])  # kept
    tokens.tokens(prompts[0])  # long gone: tokenized again
    assert seen == [*prompts, prompts[0]]
    tokens.clear()
    tokens.tokens(prompts[4])
    assert seen[-1] == prompts[4]


def test_two_threads_share_it():
    """The event loop counts while the engine's worker thread builds."""
    tokens, seen = counting()
    prompts = [Prompt.plain("completion", f"prompt {i % 3}") for i in range(300)]

    def work() -> None:
        for prompt in prompts:
            assert tokens.tokens(prompt) == prompt.display().split()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) <= 3 * 4  # each of the three prompts at most once per thread that raced for it
