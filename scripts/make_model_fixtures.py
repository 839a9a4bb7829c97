#!/usr/bin/env python3
"""Writes the model configs and PEFT adapters under examples/ that the
LoRAModels tests read.

    python3 -m venv /tmp/tv && /tmp/tv/bin/pip install torch safetensors
    /tmp/tv/bin/python scripts/make_model_fixtures.py

Deterministic: every tensor comes from a fixed torch seed, so re-running it
rewrites the same bytes. CI does not run it; the outputs are committed.

- examples/models/*/config.json: three published configs, copied field for
  field from their Hugging Face repos (Qwen/Qwen2.5-7B-Instruct,
  meta-llama/Llama-3.1-8B-Instruct, google/gemma-3-4b-it), and tiny-llama, a
  made-up Llama with real Llama field names and tiny dimensions.
- examples/adapters/*/: PEFT LoRA adapters for tiny-llama, laid out as
  PEFT's save_pretrained writes them (adapter_config.json with sorted keys,
  adapter_model.safetensors with PEFT's key names and {"format": "pt"}
  metadata), plus expected.json: each tensor's dtype, shape and a few
  elements by flat row-major index, for the tests to compare against.
"""

import json
import os

import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")

# --- Published model configs -------------------------------------------------

QWEN25_7B_INSTRUCT = {
    "architectures": ["Qwen2ForCausalLM"],
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "hidden_act": "silu",
    "hidden_size": 3584,
    "initializer_range": 0.02,
    "intermediate_size": 18944,
    "max_position_embeddings": 32768,
    "max_window_layers": 28,
    "model_type": "qwen2",
    "num_attention_heads": 28,
    "num_hidden_layers": 28,
    "num_key_value_heads": 4,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "sliding_window": 131072,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.43.1",
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": 152064,
}

LLAMA31_8B_INSTRUCT = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 128000,
    "eos_token_id": [128001, 128008, 128009],
    "hidden_act": "silu",
    "hidden_size": 4096,
    "initializer_range": 0.02,
    "intermediate_size": 14336,
    "max_position_embeddings": 131072,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
        "factor": 8.0,
        "high_freq_factor": 4.0,
        "low_freq_factor": 1.0,
        "original_max_position_embeddings": 8192,
        "rope_type": "llama3",
    },
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.42.3",
    "use_cache": True,
    "vocab_size": 128256,
}

# google/gemma-3-4b-it: the decoder is nested under text_config, which leaves
# the head counts and head_dim to Gemma3TextConfig's defaults (8, 4, 256).
GEMMA3_4B_IT = {
    "architectures": ["Gemma3ForConditionalGeneration"],
    "boi_token_index": 255999,
    "eoi_token_index": 256000,
    "eos_token_id": [1, 106],
    "image_token_index": 262144,
    "initializer_range": 0.02,
    "mm_tokens_per_image": 256,
    "model_type": "gemma3",
    "text_config": {
        "hidden_size": 2560,
        "intermediate_size": 10240,
        "model_type": "gemma3_text",
        "num_hidden_layers": 34,
        "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
        "sliding_window": 1024,
    },
    "torch_dtype": "bfloat16",
    "transformers_version": "4.50.0.dev0",
    "vision_config": {
        "hidden_size": 1152,
        "image_size": 896,
        "intermediate_size": 4304,
        "model_type": "siglip_vision_model",
        "num_attention_heads": 16,
        "num_hidden_layers": 27,
        "patch_size": 14,
        "vision_use_head": False,
    },
}

TINY_LLAMA = {
    "_name_or_path": "lora-viz/tiny-llama",
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "head_dim": 16,
    "hidden_act": "silu",
    "hidden_size": 64,
    "initializer_range": 0.02,
    "intermediate_size": 128,
    "max_position_embeddings": 2048,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": None,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.46.0",
    "use_cache": True,
    "vocab_size": 256,
}

MODELS = {
    "qwen2.5-7b-instruct": QWEN25_7B_INSTRUCT,
    "llama-3.1-8b-instruct": LLAMA31_8B_INSTRUCT,
    "gemma-3-4b-it": GEMMA3_4B_IT,
    "tiny-llama": TINY_LLAMA,
}

# --- tiny-llama's projections -------------------------------------------------

HIDDEN, Q, KV, FFN, LAYERS = 64, 64, 32, 128, 2
PROJECTIONS = {  # name: (parent, in_features, out_features)
    "q_proj": ("self_attn", HIDDEN, Q),
    "k_proj": ("self_attn", HIDDEN, KV),
    "v_proj": ("self_attn", HIDDEN, KV),
    "o_proj": ("self_attn", Q, HIDDEN),
    "gate_proj": ("mlp", HIDDEN, FFN),
    "up_proj": ("mlp", HIDDEN, FFN),
    "down_proj": ("mlp", FFN, HIDDEN),
}


def get_pattern_key(pattern_keys, key):
    """PEFT's peft.utils.other.get_pattern_key."""
    import re

    for pattern in pattern_keys:
        if re.match(rf"(.*\.)?({pattern})$", key):
            return pattern
    return key


def adapter_config(r, alpha, targets, *, rank_pattern=None, alpha_pattern=None, use_rslora=False, dropout=0.05):
    """An adapter_config.json as PEFT 0.17's save_pretrained writes it."""
    return {
        "alpha_pattern": alpha_pattern or {},
        "auto_mapping": None,
        "base_model_name_or_path": "lora-viz/tiny-llama",
        "bias": "none",
        "corda_config": None,
        "eva_config": None,
        "exclude_modules": None,
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layer_replication": None,
        "layers_pattern": None,
        "layers_to_transform": None,
        "loftq_config": {},
        "lora_alpha": alpha,
        "lora_bias": False,
        "lora_dropout": dropout,
        "megatron_config": None,
        "megatron_core": "megatron.core",
        "modules_to_save": None,
        "peft_type": "LORA",
        "qalora_group_size": 16,
        "r": r,
        "rank_pattern": rank_pattern or {},
        "revision": None,
        "target_modules": targets,
        "target_parameters": None,
        "task_type": "CAUSAL_LM",
        "trainable_token_indices": None,
        "use_dora": False,
        "use_qalora": False,
        "use_rslora": use_rslora,
    }


ADAPTERS = {
    "tiny-sql-bf16": dict(
        seed=1, dtype=torch.bfloat16,
        config=adapter_config(8, 16, ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"])),
    "tiny-chat-fp32": dict(
        seed=2, dtype=torch.float32,
        config=adapter_config(4, 8, ["q_proj", "v_proj"], dropout=0.0)),
    "tiny-rank-pattern": dict(
        seed=3, dtype=torch.bfloat16,
        config=adapter_config(
            8, 16, ["down_proj", "gate_proj", "q_proj", "up_proj", "v_proj"],
            rank_pattern={"down_proj": 4, "model.layers.1.self_attn.v_proj": 2},
            alpha_pattern={"gate_proj": 32})),
    "tiny-rslora": dict(
        seed=4, dtype=torch.float16,
        config=adapter_config(16, 16, ["q_proj", "v_proj"], use_rslora=True)),
}


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(json.dumps(value, indent=2, sort_keys=True) + "\n")


def make_adapter(name, seed, dtype, config):
    generator = torch.Generator().manual_seed(seed)
    r, alpha = config["r"], config["lora_alpha"]
    tensors, expected = {}, {}
    for layer in range(LAYERS):
        for projection, (parent, fan_in, fan_out) in PROJECTIONS.items():
            if projection not in config["target_modules"]:
                continue
            module = f"model.layers.{layer}.{parent}.{projection}"
            rank = config["rank_pattern"].get(get_pattern_key(config["rank_pattern"].keys(), module), r)
            key = f"base_model.model.{module}"
            # lora_A is (r, in_features), lora_B is (out_features, r), as nn.Linear stores them.
            # PEFT initialises B to zero; random B makes the expand visible.
            a = (torch.randn(rank, fan_in, generator=generator) * 0.25).to(dtype)
            b = (torch.randn(fan_out, rank, generator=generator) * 0.25).to(dtype)
            for side, tensor in (("lora_A", a), ("lora_B", b)):
                full = f"{key}.{side}.weight"
                tensors[full] = tensor.contiguous()
                flat = tensor.float().flatten()
                picks = sorted({0, 1, flat.numel() // 2, flat.numel() - 1})
                expected[full] = {
                    "dtype": {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32"}[dtype],
                    "shape": list(tensor.shape),
                    "samples": [[i, float(flat[i])] for i in picks],
                }
    folder = os.path.join(ROOT, "adapters", name)
    write_json(os.path.join(folder, "adapter_config.json"), config)
    save_file(tensors, os.path.join(folder, "adapter_model.safetensors"), metadata={"format": "pt"})
    # One tensor per line keeps expected.json small and diffable.
    lines = [f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(expected.items())]
    with open(os.path.join(folder, "expected.json"), "w") as f:
        f.write('{"tensors": {\n' + ",\n".join(lines) + "\n}}\n")


def main():
    for folder, config in MODELS.items():
        write_json(os.path.join(ROOT, "models", folder, "config.json"), config)
    for name, spec in ADAPTERS.items():
        make_adapter(name, **spec)


if __name__ == "__main__":
    main()
