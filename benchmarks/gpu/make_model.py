"""Write a GGUF with phi-3-mini's architecture and size, filled with random Q4_K weights.

For speed measurements only: decode speed depends on the shapes and the quantisation type, not on
what the weights mean, so this stands in for phi-3-mini Q4 (about 2.2 GB) where no real file of
that size can be brought to the GPU machine. The text it generates is noise.

Every matrix is Q4_K (4.5 bits per weight; a real Q4_K_M file keeps some tensors in Q6_K, which
makes it about 10 % larger). The weights are centred, about 0.02 wide, so activations stay finite.
The vocabulary is synthetic but complete for llama.cpp's SentencePiece tokenizer: 256 byte
tokens, ASCII pieces, and phi-3's control tokens at 32000 and up (<|endoftext|>, <|end|>).

Usage: python3 benchmarks/gpu/make_model.py OUT.gguf [--preset phi3-mini|tiny] [--layers N] [--seed N]
                                             [--dtype q4_k|f16]
(--layers changes only the depth: a sweep over it separates per-token fixed costs from weight reads.
--dtype f16 writes the matrices as F16 instead: llama.cpp then multiplies a prompt through cuBLAS,
which proves that a binary linked against a pruned cuBLAS still computes.)
Needs the `gguf` package (llama.cpp's gguf-py) and numpy.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

import gguf
import numpy as np

Q4_K = gguf.GGMLQuantizationType.Q4_K
QK_K, Q4_K_BLOCK_BYTES = gguf.GGML_QUANT_SIZES[Q4_K]

# Six-bit scale 8 and min 60 in every sub-block (get_scale_min_k4's packing), so that
# w = d*8*q - dmin*60 = 8d*(q - 7.5): uniform around zero for q in 0..15 when d == dmin.
Q4_K_SCALES = bytes([8] * 4 + [0xFC] * 4 + [0xC8] * 4)
WEIGHT_STD = 0.02


@dataclass(frozen=True)
class Phi3Shape:
    n_vocab: int
    n_embd: int
    n_ff: int
    n_layer: int
    n_head: int
    n_ctx: int


PRESETS = {
    # microsoft/Phi-3-mini-4k-instruct's hyper-parameters.
    "phi3-mini": Phi3Shape(n_vocab=32064, n_embd=3072, n_ff=8192, n_layer=32, n_head=32, n_ctx=4096),
    "tiny": Phi3Shape(n_vocab=32064, n_embd=256, n_ff=512, n_layer=2, n_head=4, n_ctx=4096),
}


def matrix_shapes(shape: Phi3Shape) -> dict[str, tuple[int, int]]:
    """Each weight matrix of llama.cpp's phi3 graph as (rows, columns); columns run along n_embd."""
    e, f = shape.n_embd, shape.n_ff
    shapes = {"token_embd.weight": (shape.n_vocab, e), "output.weight": (shape.n_vocab, e)}
    for i in range(shape.n_layer):
        shapes |= {
            f"blk.{i}.attn_qkv.weight": (3 * e, e),
            f"blk.{i}.attn_output.weight": (e, e),
            f"blk.{i}.ffn_up.weight": (2 * f, e),  # gate and up, fused
            f"blk.{i}.ffn_down.weight": (e, f),
        }
    return shapes


def q4_k_rows(rows: int, columns: int, rng: np.random.Generator) -> np.ndarray:
    """Random Q4_K data, one row of blocks per matrix row, as gguf's writer takes it (uint8)."""
    if columns % QK_K:
        raise ValueError(f"Q4_K needs rows that are a multiple of {QK_K} values, not {columns}")
    blocks = rows * columns // QK_K
    data = rng.integers(0, 256, size=(blocks, Q4_K_BLOCK_BYTES), dtype=np.uint8)
    scale = np.float16(WEIGHT_STD / (8 * 4.6))  # std of uniform q - 7.5 over 0..15 is about 4.6
    data[:, 0:4] = np.frombuffer(np.array([scale, scale], dtype=np.float16).tobytes(), np.uint8)
    data[:, 4:16] = np.frombuffer(Q4_K_SCALES, np.uint8)
    return data.reshape(rows, columns // QK_K * Q4_K_BLOCK_BYTES)


def vocabulary(n_vocab: int) -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and token types for an SPM ("llama") vocabulary of n_vocab entries."""
    tt = gguf.TokenType
    tokens = ["<unk>", "<s>", "</s>"]
    types = [tt.UNKNOWN, tt.CONTROL, tt.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [tt.BYTE] * 256
    pieces = ["\u2581"] + [chr(c) for c in range(33, 127)]
    pieces += [f"\u2581{a}{b}" for a in "abcdefghijklmnopqrstuvwxyz" for b in "aeiouy"]
    control = {32000: "<|endoftext|>", 32001: "<|assistant|>", 32006: "<|system|>", 32007: "<|end|>"}
    for token_id in range(len(tokens), n_vocab):
        if token_id in control or token_id >= 32000:
            tokens.append(control.get(token_id, f"<|placeholder{token_id}|>"))
            types.append(tt.CONTROL)
        elif pieces:
            tokens.append(pieces.pop(0))
            types.append(tt.NORMAL)
        else:
            tokens.append(f"\u2581w{token_id}")
            types.append(tt.NORMAL)
    scores = [0.0 if t != tt.NORMAL else -float(i) for i, t in enumerate(types)]
    return tokens, scores, [int(t) for t in types]


def write_model(path: str, shape: Phi3Shape, seed: int, dtype: str = "q4_k") -> int:
    """Write the GGUF; returns the bytes of weight data per decoded token (all but token_embd)."""
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(path, "phi3")
    arch = "phi3"
    writer.add_name("random-phi3-mini-q4_k")
    writer.add_context_length(shape.n_ctx)
    writer.add_embedding_length(shape.n_embd)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_block_count(shape.n_layer)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(shape.n_embd // shape.n_head)
    writer.add_rope_freq_base(10000.0)
    writer.add_uint32(f"{arch}.attention.sliding_window", 0)
    writer.add_file_type(
        gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.MOSTLY_Q4_K_S
    )

    tokens, scores, types = vocabulary(shape.n_vocab)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(32000)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    ones = np.ones(shape.n_embd, dtype=np.float32)
    writer.add_tensor("output_norm.weight", ones)
    for i in range(shape.n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", ones)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", ones)
    streamed = 0
    for name, (rows, columns) in matrix_shapes(shape).items():
        if dtype == "f16":
            data = (rng.standard_normal((rows, columns), dtype=np.float32) * WEIGHT_STD).astype(np.float16)
            writer.add_tensor(name, data)
        else:
            data = q4_k_rows(rows, columns, rng)
            writer.add_tensor(name, data, raw_dtype=Q4_K)
        if name != "token_embd.weight":
            streamed += data.nbytes

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return streamed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="phi3-mini")
    parser.add_argument("--layers", type=int, help="override the preset's number of blocks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=("q4_k", "f16"), default="q4_k")
    options = parser.parse_args(argv)
    shape = PRESETS[options.preset]
    if options.layers:
        shape = replace(shape, n_layer=options.layers)
    streamed = write_model(options.out, shape, options.seed, options.dtype)
    print(f"wrote {options.out}: {streamed} bytes of weights read per decoded token")


if __name__ == "__main__":
    main()
