"""The in-process engine hands back each review as it finishes: does that cost throughput?

Same vLLM engine, same prompts, same schemas, alternating rounds:
- one `LLM.generate` call with every prompt (what panel did before: nothing finished until all did);
- panel's `VLLMOfflineEngine.run`, which steps vLLM's engine itself and yields each result as it
  finishes (continuous batching; new requests join while others run).

Prints generated tokens per second for each side and round, the time to the first finished
review, and the ratio of the medians. The target: streaming within 5% of one call.

    python bench/offline_streaming.py [--prompts 16] [--rounds 3] [--model DIR]

Without --model it builds the tiny random-weight test model (tests/tinymodel.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from panel.engines import GenRequest, create_engine
from panel.engines.profiles import Profile
from panel.engines.vllm_offline import sampling_params
from panel.generation.prompts import Prompts
from panel.inputs.personas import load_personas
from panel.records import Tool, review_decoding_schema

import tinymodel


def requests(n: int, round_: int) -> list[GenRequest]:
    """n review requests over the four personas, each prompt new (no prefix-cache help)."""
    personas = load_personas()
    prompts = Prompts()
    out = []
    for i in range(n):
        persona = personas[i % len(personas)]
        tool = Tool(name=f"Tool {round_}-{i}", description=f"Round {round_}, tool {i}: a scheduler for jobs.")
        out.append(
            GenRequest(
                key=f"r{round_}-{i}",
                prompt=prompts.render("completion", persona, tool),
                schema=review_decoding_schema(persona.id, persona.ship_threshold),
                max_tokens=1024,
                seed=1000 * round_ + i,
            )
        )
    return out


async def streamed(engine, batch: list[GenRequest]) -> tuple[float, float, int]:
    started = time.perf_counter()
    first, tokens = None, 0
    async for result in engine.run(batch):
        first = first or time.perf_counter() - started
        tokens += result.completion_tokens or 0
    return time.perf_counter() - started, first or 0.0, tokens


def one_call(engine, batch: list[GenRequest]) -> tuple[float, float, int]:
    started = time.perf_counter()
    outputs = engine.llm.generate(
        [r.prompt.text for r in batch], [sampling_params(engine.profile, r) for r in batch], use_tqdm=False
    )
    took = time.perf_counter() - started
    return took, took, sum(len(o.outputs[0].token_ids) for o in outputs)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", type=Path)
    args = parser.parse_args()
    model = args.model or tinymodel.build(Path(tempfile.mkdtemp(prefix="panel-bench-")))
    profile = Profile(
        name="bench",
        engine="vllm-offline",
        model=str(model),
        prompt_format="completion",
        temperature=0.8,
        options={"kv_cache_gib": 1, "llm": {"max_model_len": 4096}},
    )
    engine = create_engine(profile, say=print)
    await engine.start()
    rates: dict[str, list[float]] = {"one call": [], "streamed": []}
    print(f"{'round':>5} {'side':<9} {'s':>7} {'first s':>8} {'tokens':>7} {'tokens/s':>9}")
    try:
        for round_ in range(args.rounds):
            sides = [("one call", None), ("streamed", None)]
            if round_ % 2:
                sides.reverse()
            for name, _ in sides:
                batch = requests(args.prompts, 2 * round_ + (name == "streamed"))
                if name == "one call":
                    took, first, tokens = await asyncio.to_thread(one_call, engine, batch)
                else:
                    took, first, tokens = await streamed(engine, batch)
                rates[name].append(tokens / took)
                print(f"{round_ + 1:>5} {name:<9} {took:7.2f} {first:8.2f} {tokens:7d} {tokens / took:9.1f}")
    finally:
        await engine.close()
    one, stream = statistics.median(rates["one call"]), statistics.median(rates["streamed"])
    print(f"median tokens/s: one call {one:.1f}, streamed {stream:.1f}, ratio {stream / one:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
