#!/usr/bin/env python3
"""mixconv against ONNX Runtime on the MixNet depthwise layers, on this machine, in one run.

The issue's bar "no single layer slower than the best peer on that layer" can only be checked
against a peer measured on the same machine at the same time: this script times ONNX Runtime
(the fastest peer on MixNet-L in the project's peer notes) and the `mixconv` command on every
layer of `workloads/mixnet.json`, in alternating rounds, and prints both medians per layer.

ONNX Runtime runs each layer as its users build it: Split -> one depthwise Conv (bias, no
activation) per group -> Concat, NCHW f32, batch 1, one thread. Like `mixconv`'s bench, its
runs take turns over copies of the input that together hold at least 8 MiB (at most 64), so
that no run finds its input in L1/L2 because the previous run left it there.

Needs: `pip install onnxruntime onnx numpy` and a release build (`cargo build --release`).

    python3 scripts/peer_ort.py                        # MixNet-S, the widest ISA, 3 rounds
    python3 scripts/peer_ort.py --model all --isa avx2 --rounds 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROTATION_BYTES = 8 << 20


def onnx_model(layer):
    """The layer as ONNX Runtime's users build it: Split, one depthwise Conv a group, Concat."""
    c, stride, dilation = layer["channels"], layer["stride"], layer["dilation"]
    inits, nodes, outs = [], [], []
    groups = len(layer["splits"])
    if groups > 1:
        inits.append(numpy_helper.from_array(np.array(layer["splits"], dtype=np.int64), "split"))
        names = [f"x{i}" for i in range(groups)]
        nodes.append(helper.make_node("Split", ["x", "split"], names, axis=1))
    else:
        names = ["x"]
    rng = np.random.default_rng(1)
    for i, (k, ch, pad) in enumerate(zip(layer["kernels"], layer["splits"], layer["pad"])):
        inits.append(numpy_helper.from_array(rng.uniform(-1, 1, (ch, 1, k, k)).astype(np.float32), f"w{i}"))
        inits.append(numpy_helper.from_array(rng.uniform(-1, 1, ch).astype(np.float32), f"b{i}"))
        out = f"y{i}" if groups > 1 else "y"
        nodes.append(
            helper.make_node(
                "Conv",
                [names[i], f"w{i}", f"b{i}"],
                [out],
                group=ch,
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[pad] * 4,
                dilations=[dilation] * 2,
            )
        )
        outs.append(out)
    if groups > 1:
        nodes.append(helper.make_node("Concat", outs, ["y"], axis=1))
    graph = helper.make_graph(
        nodes,
        layer["name"],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, layer["h"], layer["w"]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, layer["out_h"], layer["out_w"]])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


def ort_median_us(layer, budget_s):
    """Median time of one ONNX Runtime run of the layer (one thread, inputs rotating)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(onnx_model(layer), options, providers=["CPUExecutionProvider"])
    c = layer["channels"]
    nbytes = 4 * c * (layer["h"] * layer["w"] + layer["out_h"] * layer["out_w"])
    copies = max(1, min(64, -(-ROTATION_BYTES // nbytes)))
    rng = np.random.default_rng(2)
    inputs = [rng.uniform(-1, 1, (1, c, layer["h"], layer["w"])).astype(np.float32) for _ in range(copies)]
    for x in inputs:
        session.run(None, {"x": x})
    times, i, end = [], 0, time.perf_counter() + budget_s
    while time.perf_counter() < end or len(times) < 5:
        x = inputs[i % copies]
        i += 1
        start = time.perf_counter()
        session.run(None, {"x": x})
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def mixconv_medians_us(binary, model, isa, budget_ms):
    """Per-layer medians from the `mixconv` command's JSON report."""
    cmd = [binary, "--model", model.removeprefix("mixnet_"), "--json", "--budget-ms", str(budget_ms)]
    if isa:
        cmd += ["--isa", isa]
    report = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    return report["isa"], {layer["name"]: layer["median_us"] for layer in report["layers"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="s", choices=["s", "m", "l", "all"])
    parser.add_argument("--isa", default=None, help="mixconv's ISA (default: the widest)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--budget-ms", type=int, default=200, help="time per layer and engine")
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "mixconv"))
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `cargo build --release` first")
    with open(os.path.join(ROOT, "workloads", "mixnet.json")) as f:
        workloads = json.load(f)["models"]
    models = ["mixnet_s", "mixnet_m", "mixnet_l"] if args.model == "all" else [f"mixnet_{args.model}"]
    print(f"ONNX Runtime {ort.__version__} (1 thread) against {args.binary}, {args.rounds} rounds")
    slower = []
    for model in models:
        peer, ours, isa = {}, {}, None
        for _ in range(args.rounds):
            for layer in workloads[model]:
                peer.setdefault(layer["name"], []).append(ort_median_us(layer, args.budget_ms / 1000))
            isa, medians = mixconv_medians_us(args.binary, model, args.isa, args.budget_ms)
            for name, us in medians.items():
                ours.setdefault(name, []).append(us)
        print(f"\n{'layer':14s} {'ORT us':>9s} {'mixconv ' + isa + ' us':>18s} {'ORT/mixconv':>12s}")
        peer_sum = ours_sum = 0.0
        for layer in workloads[model]:
            name = layer["name"]
            p, o = statistics.median(peer[name]), statistics.median(ours[name])
            peer_sum, ours_sum = peer_sum + p, ours_sum + o
            flag = "  <- mixconv slower" if o > p else ""
            print(f"{name:14s} {p:9.1f} {o:18.1f} {p / o:12.2f}{flag}")
            if o > p:
                slower.append(name)
        print(f"{'sum':14s} {peer_sum:9.1f} {ours_sum:18.1f} {peer_sum / ours_sum:12.2f}")
    print(f"\nlayers where mixconv is slower: {', '.join(slower) if slower else 'none'}")


if __name__ == "__main__":
    main()
