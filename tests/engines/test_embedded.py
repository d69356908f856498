"""The embedded model's one-time conversion: real progress while transformers reads the GGUF file."""

from __future__ import annotations

import time

from panel.engines.embedded import _Counted


def test_each_tensor_read_is_counted_and_the_rest_estimated_from_the_rate_so_far():
    said: list[str] = []
    counted = _Counted(said.append, "Dequantizing", every=0.05)

    seen = []
    for tensor in counted(list(range(20)), desc="ignored, as tqdm's arguments are"):
        time.sleep(0.02)  # transformers dequantizes each tensor in the loop's body
        seen.append(tensor)
    assert seen == list(range(20))
    assert said and all(line.startswith("Dequantizing: ") and "/20 tensors, about " in line for line in said)
    done = [int(line.split(": ")[1].split("/")[0]) for line in said]
    assert done == sorted(done) and done[-1] < 20  # progress while it works, not after
    left = [int(line.split("about ")[1].split(" s")[0]) for line in said]
    assert all(s <= 1 for s in left)  # 20 steps of 20 ms: under a second in all
