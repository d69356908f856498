"""Build a tiny random-weight Llama model and a locally trained tokenizer. No downloads.

Shapes are chosen for vLLM's CPU build: hidden size 128 with 2 heads gives head_dim 64 (CPU
attention rejects head_dim 16). The byte-level BPE tokenizer covers every byte, so emoji, CJK
and any JSON the grammar allows can be generated. Used by tests/conftest.py and bench/.

    python tests/tinymodel.py OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VERSION = "2"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
_WORDS = [
    "the",
    "a",
    "tool",
    "ship",
    "skip",
    "score",
    "review",
    "panel",
    "builder",
    "skeptic",
    "futurist",
    "founder",
    "developer",
    "model",
    "server",
    "database",
    "schema",
    "query",
    "notebook",
    "deploy",
    "migration",
    "prompt",
    "cache",
    "token",
    "latency",
    "price",
    "free",
    "paid",
    "open",
    "source",
    "team",
    "buyer",
    "budget",
    "moat",
    "rival",
    "trend",
    "thesis",
    "primitive",
    "weekend",
    "hour",
    "scenario",
    "competitor",
    "survive",
    "risk",
    "break",
    "claim",
    "benchmark",
    "license",
    "workflow",
    "editor",
    "pipeline",
    "batch",
    "feed",
    "json",
    "verdict",
    "persona",
    "because",
    "which",
    "would",
    "could",
    "should",
    "their",
    "there",
    "about",
    "after",
    "before",
]


def _corpus() -> list[str]:
    lines = []
    for i in range(400):
        words = [_WORDS[(i * 7 + j * 13) % len(_WORDS)] for j in range(12)]
        lines.append(" ".join(words).capitalize() + ".")
        lines.append(
            json.dumps(
                {
                    "persona": _WORDS[i % 4 + 10],
                    "score": (i * 37) % 101,
                    "verdict": "ship" if i % 2 else "skip",
                }
            )
        )
    lines.append("0123456789 {}[]:,\"' -_.!?;()")
    return lines


def build(out: Path) -> Path:
    """Write the model to `out` (skipped when a build of this VERSION is already there)."""
    marker = out / "tiny-model.json"
    if marker.is_file() and json.loads(marker.read_text()).get("version") == VERSION:
        return out
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    specials = ["<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = fast.eos_token_id
    model.save_pretrained(out)
    marker.write_text(json.dumps({"version": VERSION}))
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
