#!/usr/bin/env python3
"""Hugging Face's BigBird training step on bench:model's shapes: the peer of `npm run bench:model`.

BigBirdForMaskedLM with base width (hidden 768, 12 heads, intermediate 3072, vocab 32500, block 64,
3 random blocks, gelu_new), 2 layers, batch 1, train mode (dropout on), torch's AdamW; the MLM head
runs on the masked positions only, as kbb's does (15% of the tokens, at most 640), and the loss is
the mean cross-entropy over them. One untimed warm-up step, then `--steps` timed ones; tokens/s from the median step. The last
stdout line is one JSON object of tokens/s per configuration (null where one failed).

    python3 bench/model_peer.py [--steps 3] [--threads 2] sparse_1024 full_2048 ...

bench/model.ts runs it where Python has torch and transformers, and says why not elsewhere.
"""

import argparse
import json
import statistics
import sys
import time

import torch
from transformers import BigBirdConfig, BigBirdForMaskedLM

VOCAB = 32500
MASK_ID = 4
MAX_PREDICTIONS = 640
CASES = {
    "sparse_1024": ("block_sparse", 1024),
    "sparse_2048": ("block_sparse", 2048),
    "sparse_4096": ("block_sparse", 4096),
    "full_1024": ("original_full", 1024),
    "full_2048": ("original_full", 2048),
}


def batch(length):
    """bench:model's batch shape: random ids, 15% (at most 640) evenly spaced positions masked."""
    generator = torch.Generator().manual_seed(length)
    ids = torch.randint(5, VOCAB, (1, length), generator=generator)
    labels = torch.full((1, length), -100)
    predictions = min(MAX_PREDICTIONS, round(length * 0.15))
    at = torch.tensor([1 + (k * (length - 2)) // predictions for k in range(predictions)])
    labels[0, at] = ids[0, at]
    ids[0, at] = MASK_ID
    return ids, labels


def measure(attention, length, steps):
    config = BigBirdConfig(
        vocab_size=VOCAB,
        hidden_size=768,
        num_hidden_layers=2,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=4096,
        block_size=64,
        num_random_blocks=3,
        attention_type=attention,
        hidden_act="gelu_new",
    )
    torch.manual_seed(42)
    model = BigBirdForMaskedLM(config)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    ids, labels = batch(length)
    positions = (labels[0] != -100).nonzero().squeeze(1)
    targets = labels[0, positions]

    def step():
        started = time.perf_counter()
        sequence = model.bert(input_ids=ids).last_hidden_state
        logits = model.cls(sequence[0, positions])
        loss = torch.nn.functional.cross_entropy(logits, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - started

    step()
    times = [step() for _ in range(steps)]
    seconds = statistics.median(times)
    print(f"HF {attention} {length}: steps {', '.join(f'{t:.2f}' for t in times)} s -> {length / seconds:.0f} tokens/s", file=sys.stderr)
    return length / seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {}
    for key in args.cases:
        attention, length = CASES[key]
        try:
            results[key] = round(measure(attention, length, args.steps), 1)
        except Exception as error:  # a configuration that fails is reported as null, as bench:model does
            print(f"HF {attention} {length}: failed ({error})", file=sys.stderr)
            results[key] = None
    print(json.dumps(results))


if __name__ == "__main__":
    main()
