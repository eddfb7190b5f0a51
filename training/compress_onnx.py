"""Weight-only compression of an exported ONNX model, so the shipped file stays small for git.

int8: every large float32 initializer (conv / matmul weights) becomes int8 + per-output-channel
scale, restored as Cast(int8 -> float) * scale — a quarter of the size. Not DequantizeLinear:
onnxruntime's extended optimisations fuse DequantizeLinear + MatMul into dynamically quantised
integer kernels (measured 2.1e-4 off PyTorch), while Cast * scale is constant-folded back into a
float32 initializer at session load, so all arithmetic stays float32 (1.6e-7 off PyTorch). fp16: float16 storage + Cast (half the size).
`fake_quantize_state_dict` applies the same rounding to PyTorch weights, so PyTorch evaluation and
parity checks can run on exactly the numbers onnxruntime sees.
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

MIN_ELEMENTS = 4096


def _axis_for(init_name, arr, consumers):
    # Conv weights [Cout, Cin, k, k]: per output channel (axis 0). MatMul weights [in, out]: axis 1.
    ops = {n.op_type for n in consumers}
    if arr.ndim == 4 or 'Conv' in ops:
        return 0
    if arr.ndim == 2 and ops == {'MatMul'}:
        return 1
    if arr.ndim == 2 and ops == {'Gemm'}:
        trans = [a.i for n in consumers for a in n.attribute if a.name == 'transB']
        if all(n.input[1] == init_name for n in consumers):
            return 0 if trans and all(trans) else 1
    return None


def quantize_int8(arr: np.ndarray, axis: int):
    red = tuple(i for i in range(arr.ndim) if i != axis)
    amax = np.abs(arr).max(axis=red)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    shape = [1] * arr.ndim
    shape[axis] = -1
    q = np.clip(np.round(arr / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale, (q.astype(np.float32) * scale.reshape(shape)).astype(np.float32)


def compress(src: str, dst: str, mode: str = 'int8'):
    m = onnx.load(src)
    g = m.graph
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    new_inits, new_nodes = [], []
    stats = {'compressed': 0, 'kept': 0}
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        if init.data_type != TensorProto.FLOAT or arr.size < MIN_ELEMENTS:
            new_inits.append(init)
            stats['kept'] += 1
            continue
        name = init.name
        if mode == 'fp16':
            new_inits.append(numpy_helper.from_array(arr.astype(np.float16), name + '__fp16'))
            new_nodes.append(helper.make_node('Cast', [name + '__fp16'], [name], to=TensorProto.FLOAT, name=name + '__cast'))
        else:
            axis = _axis_for(name, arr, consumers.get(name, []))
            if axis is None:
                new_inits.append(init)
                stats['kept'] += 1
                continue
            q, scale, _ = quantize_int8(arr, axis)
            shape = [1] * arr.ndim
            shape[axis] = -1
            new_inits.append(numpy_helper.from_array(q, name + '__q'))
            new_inits.append(numpy_helper.from_array(scale.reshape(shape), name + '__scale'))
            new_nodes.append(helper.make_node('Cast', [name + '__q'], [name + '__f'], to=TensorProto.FLOAT, name=name + '__cast'))
            new_nodes.append(helper.make_node('Mul', [name + '__f', name + '__scale'], [name], name=name + '__dq'))
        stats['compressed'] += 1
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(new_nodes + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return stats


def fake_quantize_state_dict(model, mode='int8'):
    """Rounds a PartRM's large weights in place exactly as `compress` stores them."""
    import torch
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.numel() < MIN_ELEMENTS:
                continue
            a = p.detach().cpu().numpy()
            if mode == 'fp16':
                p.copy_(torch.from_numpy(a.astype(np.float16).astype(np.float32)))
            elif a.ndim == 4:
                p.copy_(torch.from_numpy(quantize_int8(a, 0)[2]))
            elif a.ndim == 2:
                # nn.Linear stores [out, in]; the exported MatMul constant is its transpose [in, out]
                # quantised per output column: the same as per row here.
                p.copy_(torch.from_numpy(quantize_int8(a, 0)[2]))
