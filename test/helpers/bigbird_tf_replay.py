"""Independent float64 NumPy replay of KoBigBird's TensorFlow pretraining step (spec §3.3-§3.5, §3.7).

Usage:
  python3 bigbird_tf_replay.py < input.json > output.json   replay the batches, print the result
  python3 bigbird_tf_replay.py --demo [--seed N]             print a random tiny demo input
  python3 bigbird_tf_replay.py --check [--seed N] [--stdin]  analytic vs finite-difference gradients
                                                             (demo problem, or the input on stdin;
                                                             first batch), JSON summary on stdout

Input (one JSON object on stdin):
  config      vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
              max_position_embeddings, type_vocab_size, layer_norm_eps (1e-12), pad_token_id (0)
  weights     {TF name: {shape: [...], values: [flat row-major]}}; dense kernels are [in, out]
  batches     [{input_ids, segment_ids: [B][S], masked_lm_positions, masked_lm_ids,
               masked_lm_weights: [B][P]}, ...]
  optimizer   learning_rate, num_warmup_steps, num_train_steps, weight_decay_rate, beta1, beta2, epsilon
  start_step  global step before the first update (default 0)
  accumulate  consecutive batches whose gradients are averaged into one update (default 1)

Output: {losses, accuracies (per batch), learning_rates (per update), weights {name: flat values},
         slots {name/AdamWeightDecayOptimizer: m, name/AdamWeightDecayOptimizer_1: v}, global_step}

What is modelled: the TF model with attention forced to original_full (max_encoder_length <= 512),
dropout off. input_mask = ids != pad; embeddings word[ids] + type[seg] + pos[0:S] -> LayerNorm
`bert/encoder/LayerNorm`; post-norm layers with the original_full additive mask
(1 - from_mask (x) to_mask) * -10000 and NO zeroing of padded query rows afterwards (only the
block_sparse kernel multiplies by from_mask; original_full_attention in KoBigBird's attention.py
returns probs . V as is); tanh GELU; MLM head with the decoder tied to the word embeddings;
loss sum(w * nll) / (sum(w) + 1e-5); BERT AdamWeightDecay without bias correction, decay skipped
for names matching `LayerNorm|layer_norm|bias`. Every gradient is dense (the tied decoder touches
every word-embedding row; the position-table gradient of tf.slice is dense, so unused position rows
get g = 0, i.e. their moments decay and the weights are still weight-decayed).

The backward pass is written by hand; --check verifies it against a fourth-order central
difference. NumPy only; nothing from the project is imported.
"""

import json
import math
import re
import sys
import time

import numpy as np

F = np.float64
NO_DECAY = re.compile(r"LayerNorm|layer_norm|bias")
GELU_C = math.sqrt(2.0 / math.pi)


# ----------------------------------------------------------------------------------------------
# Variable names (spec §3.7)
# ----------------------------------------------------------------------------------------------

def layer_names(n):
    p = f"bert/encoder/layer_{n}/"
    return {
        "q_k": p + "attention/self/query/kernel",
        "q_b": p + "attention/self/query/bias",
        "k_k": p + "attention/self/key/kernel",
        "k_b": p + "attention/self/key/bias",
        "v_k": p + "attention/self/value/kernel",
        "v_b": p + "attention/self/value/bias",
        "o_k": p + "attention/output/dense/kernel",
        "o_b": p + "attention/output/dense/bias",
        "ln1_g": p + "attention/output/LayerNorm/gamma",
        "ln1_b": p + "attention/output/LayerNorm/beta",
        "i_k": p + "intermediate/dense/kernel",
        "i_b": p + "intermediate/dense/bias",
        "f_k": p + "output/dense/kernel",
        "f_b": p + "output/dense/bias",
        "ln2_g": p + "output/LayerNorm/gamma",
        "ln2_b": p + "output/LayerNorm/beta",
    }


WORD = "bert/embeddings/word_embeddings"
TYPE = "bert/embeddings/token_type_embeddings"
POS = "bert/embeddings/position_embeddings"
ELN_G = "bert/encoder/LayerNorm/gamma"
ELN_B = "bert/encoder/LayerNorm/beta"
T_K = "cls/predictions/transform/dense/kernel"
T_B = "cls/predictions/transform/dense/bias"
TLN_G = "cls/predictions/transform/LayerNorm/gamma"
TLN_B = "cls/predictions/transform/LayerNorm/beta"
OUT_B = "cls/predictions/output_bias"


def trained_shapes(cfg):
    """The variables the MLM loss reaches, with their shapes (everything else gets no gradient)."""
    V, H, I = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    shapes = {
        WORD: (V, H),
        TYPE: (cfg["type_vocab_size"], H),
        POS: (cfg["max_position_embeddings"], H),
        ELN_G: (H,),
        ELN_B: (H,),
    }
    for n in range(cfg["num_hidden_layers"]):
        L = layer_names(n)
        for key in ("q", "k", "v", "o"):
            shapes[L[key + "_k"]] = (H, H)
            shapes[L[key + "_b"]] = (H,)
        shapes[L["i_k"]] = (H, I)
        shapes[L["i_b"]] = (I,)
        shapes[L["f_k"]] = (I, H)
        shapes[L["f_b"]] = (H,)
        for key in ("ln1_g", "ln1_b", "ln2_g", "ln2_b"):
            shapes[L[key]] = (H,)
    shapes.update({T_K: (H, H), T_B: (H,), TLN_G: (H,), TLN_B: (H,), OUT_B: (V,)})
    return shapes


# ----------------------------------------------------------------------------------------------
# Building blocks (forward returns a cache; backward takes it)
# ----------------------------------------------------------------------------------------------

def layer_norm(x, gamma, beta, eps):
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)  # population variance (tf.nn.moments)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = xc * rstd
    return xhat * gamma + beta, (xhat, rstd, gamma)


def layer_norm_back(dy, cache):
    xhat, rstd, gamma = cache
    lead = tuple(range(dy.ndim - 1))
    dgamma = (dy * xhat).sum(axis=lead)
    dbeta = dy.sum(axis=lead)
    dxhat = dy * gamma
    dx = rstd * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    return dx, dgamma, dbeta


def gelu(x):
    t = np.tanh(GELU_C * (x + 0.044715 * x ** 3))
    return 0.5 * x * (1.0 + t), t


def gelu_back(dy, x, t):
    du = GELU_C * (1.0 + 3.0 * 0.044715 * x * x)
    return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)


def dense_back(dy, x, kernel):
    """y = x @ kernel + bias over any leading dims -> (dx, dkernel, dbias)."""
    k_in, k_out = kernel.shape
    x2 = x.reshape(-1, k_in)
    dy2 = dy.reshape(-1, k_out)
    return (dy @ kernel.T), x2.T @ dy2, dy2.sum(axis=0)


def softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


# ----------------------------------------------------------------------------------------------
# Forward + backward of one batch
# ----------------------------------------------------------------------------------------------

def loss_and_grads(cfg, W, batch, need_grads=True):
    """Returns (loss, accuracy, grads or None) of one batch, all float64."""
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    pad = int(cfg.get("pad_token_id", 0))
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    d = H // nh
    nl = cfg["num_hidden_layers"]
    scale = 1.0 / math.sqrt(float(d))

    ids = np.asarray(batch["input_ids"], dtype=np.int64)
    seg = np.asarray(batch["segment_ids"], dtype=np.int64)
    pos = np.asarray(batch["masked_lm_positions"], dtype=np.int64)
    lab = np.asarray(batch["masked_lm_ids"], dtype=np.int64)
    wts = np.asarray(batch["masked_lm_weights"], dtype=F)
    B, S = ids.shape
    P = pos.shape[1]
    V = W[WORD].shape[0]
    if S > W[POS].shape[0]:
        raise ValueError(f"sequence length {S} exceeds the position table ({W[POS].shape[0]} rows)")

    # ---- embeddings
    mask = (ids != pad).astype(F)                                 # [B,S]
    emb = W[WORD][ids] + W[TYPE][seg] + W[POS][:S][None, :, :]    # one_hot(seg) . table == table[seg]
    x, eln = layer_norm(emb, W[ELN_G], W[ELN_B], eps)
    # original_full mask: outer product from_mask (x) to_mask, per example, broadcast over heads.
    adder = (1.0 - mask[:, None, :, None] * mask[:, None, None, :]) * -10000.0   # [B,1,S,S]

    def heads(t):   # [B,S,H] -> [B,nh,S,d]; head h = columns h*d:(h+1)*d
        return t.reshape(B, S, nh, d).transpose(0, 2, 1, 3)

    def merge(t):   # [B,nh,S,d] -> [B,S,H]
        return t.transpose(0, 2, 1, 3).reshape(B, S, H)

    caches = []
    for n in range(nl):
        L = layer_names(n)
        q = heads(x @ W[L["q_k"]] + W[L["q_b"]])
        k = heads(x @ W[L["k_k"]] + W[L["k_b"]])
        v = heads(x @ W[L["v_k"]] + W[L["v_b"]])
        scores = np.einsum("bnfh,bnth->bnft", q, k) * scale + adder
        probs = softmax(scores)
        ctx = merge(np.einsum("bnft,bnth->bnfh", probs, v))   # no from_mask zeroing (original_full)
        ao = ctx @ W[L["o_k"]] + W[L["o_b"]]
        a, ln1 = layer_norm(ao + x, W[L["ln1_g"]], W[L["ln1_b"]], eps)
        hpre = a @ W[L["i_k"]] + W[L["i_b"]]
        h, ht = gelu(hpre)
        o = h @ W[L["f_k"]] + W[L["f_b"]]
        y, ln2 = layer_norm(o + a, W[L["ln2_g"]], W[L["ln2_b"]], eps)
        caches.append((x, q, k, v, probs, ctx, ln1, a, hpre, ht, h, ln2))
        x = y

    # ---- MLM head
    bidx = np.arange(B)[:, None]
    g = x[bidx, pos]                                              # [B,P,H] gather(batch_dims=1)
    tpre = g @ W[T_K] + W[T_B]
    tg, tt = gelu(tpre)
    t, tln = layer_norm(tg, W[TLN_G], W[TLN_B], eps)
    logits = t @ W[WORD].T + W[OUT_B]                             # [B,P,V]
    logp = log_softmax(logits)
    nll = -np.take_along_axis(logp, lab[..., None], axis=-1)[..., 0]
    den = wts.sum() + 1e-5
    loss = float((wts * nll).sum() / den)
    wsum = float(wts.sum())
    correct = (np.argmax(logp, axis=-1) == lab).astype(F)
    acc = float((wts * correct).sum() / wsum) if wsum != 0.0 else 0.0
    if not need_grads:
        return loss, acc, None

    # ---- backward
    G = {name: np.zeros_like(W[name]) for name in trained_shapes(cfg)}
    coef = (wts / den)[..., None]                                 # [B,P,1]
    dlogits = np.exp(logp) * coef
    np.add.at(dlogits, (bidx, np.arange(P)[None, :], lab), -coef[..., 0])
    G[OUT_B] += dlogits.sum(axis=(0, 1))
    G[WORD] += dlogits.reshape(-1, V).T @ t.reshape(-1, H)        # tied decoder
    dt = dlogits @ W[WORD]
    dtg, G[TLN_G], G[TLN_B] = layer_norm_back(dt, tln)
    dtpre = gelu_back(dtg, tpre, tt)
    dg, G[T_K], G[T_B] = dense_back(dtpre, g, W[T_K])
    dx = np.zeros((B, S, H))
    np.add.at(dx, (np.broadcast_to(bidx, pos.shape), pos), dg)

    for n in reversed(range(nl)):
        L = layer_names(n)
        xin, q, k, v, probs, ctx, ln1, a, hpre, ht, h, ln2 = caches[n]
        dz2, G[L["ln2_g"]], G[L["ln2_b"]] = layer_norm_back(dx, ln2)
        dh, G[L["f_k"]], G[L["f_b"]] = dense_back(dz2, h, W[L["f_k"]])
        dhpre = gelu_back(dh, hpre, ht)
        da, G[L["i_k"]], G[L["i_b"]] = dense_back(dhpre, a, W[L["i_k"]])
        da = da + dz2
        dz1, G[L["ln1_g"]], G[L["ln1_b"]] = layer_norm_back(da, ln1)
        dctx, G[L["o_k"]], G[L["o_b"]] = dense_back(dz1, ctx, W[L["o_k"]])
        dctx = heads(dctx)
        dprobs = np.einsum("bnfh,bnth->bnft", dctx, v)
        dv = np.einsum("bnft,bnfh->bnth", probs, dctx)
        dscores = probs * (dprobs - (dprobs * probs).sum(axis=-1, keepdims=True))
        dq = np.einsum("bnft,bnth->bnfh", dscores, k) * scale
        dk = np.einsum("bnft,bnfh->bnth", dscores, q) * scale
        dxq, G[L["q_k"]], G[L["q_b"]] = dense_back(merge(dq), xin, W[L["q_k"]])
        dxk, G[L["k_k"]], G[L["k_b"]] = dense_back(merge(dk), xin, W[L["k_k"]])
        dxv, G[L["v_k"]], G[L["v_b"]] = dense_back(merge(dv), xin, W[L["v_k"]])
        dx = dz1 + dxq + dxk + dxv

    demb, G[ELN_G], G[ELN_B] = layer_norm_back(dx, eln)
    np.add.at(G[WORD], ids, demb)
    np.add.at(G[TYPE], seg, demb)
    G[POS][:S] += demb.sum(axis=0)
    return loss, acc, G


# ----------------------------------------------------------------------------------------------
# Optimizer and schedule (spec §3.5)
# ----------------------------------------------------------------------------------------------

def learning_rate(step, opt):
    peak = float(opt["learning_rate"])
    warm = int(opt.get("num_warmup_steps", 0))
    total = int(opt["num_train_steps"])
    if warm and step < warm:
        return peak * step / warm
    return peak * (1.0 - min(step, total) / total)


def adam_update(W, M, Vs, G, lr, opt):
    b1, b2 = float(opt.get("beta1", 0.9)), float(opt.get("beta2", 0.999))
    eps, wd = float(opt.get("epsilon", 1e-6)), float(opt.get("weight_decay_rate", 0.01))
    for name, g in G.items():
        m = b1 * M[name] + (1.0 - b1) * g
        v = b2 * Vs[name] + (1.0 - b2) * g * g
        u = m / (np.sqrt(v) + eps)
        if wd and NO_DECAY.search(name) is None:
            u = u + wd * W[name]
        W[name] = W[name] - lr * u
        M[name], Vs[name] = m, v


# ----------------------------------------------------------------------------------------------
# Replay
# ----------------------------------------------------------------------------------------------

def load_weights(cfg, raw):
    W = {}
    for name, entry in raw.items():
        shape = tuple(int(s) for s in entry["shape"])
        values = np.asarray(entry["values"], dtype=F)
        if values.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{name}: {values.size} values for shape {list(shape)}")
        W[name] = values.reshape(shape)
    for name, shape in trained_shapes(cfg).items():
        if name not in W:
            raise ValueError(f"missing weight {name}")
        if W[name].shape != shape:
            raise ValueError(f"{name} has shape {list(W[name].shape)}, expected {list(shape)}")
    return W


def replay(inp):
    cfg, opt = inp["config"], inp["optimizer"]
    W = load_weights(cfg, inp["weights"])
    trained = list(trained_shapes(cfg))
    M = {name: np.zeros_like(W[name]) for name in trained}
    Vs = {name: np.zeros_like(W[name]) for name in trained}
    k = int(inp.get("accumulate", 1) or 1)
    batches = inp["batches"]
    if k < 1 or len(batches) % k:
        raise ValueError(f"{len(batches)} batches do not split into updates of accumulate={k}")
    step = int(inp.get("start_step", 0))
    losses, accs, lrs = [], [], []
    for start in range(0, len(batches), k):
        total = None
        for batch in batches[start:start + k]:
            loss, acc, G = loss_and_grads(cfg, W, batch)
            losses.append(loss)
            accs.append(acc)
            total = G if total is None else {n: total[n] + G[n] for n in total}
        mean = {n: g / k for n, g in total.items()} if k > 1 else total
        lr = learning_rate(step, opt)
        lrs.append(lr)
        adam_update(W, M, Vs, mean, lr, opt)
        step += 1
    slots = {}
    for name in trained:
        slots[name + "/AdamWeightDecayOptimizer"] = M[name].ravel().tolist()
        slots[name + "/AdamWeightDecayOptimizer_1"] = Vs[name].ravel().tolist()
    return {
        "losses": losses,
        "accuracies": accs,
        "learning_rates": lrs,
        "weights": {name: w.ravel().tolist() for name, w in W.items()},
        "slots": slots,
        "global_step": step,
    }


# ----------------------------------------------------------------------------------------------
# Demo input and gradient self-check
# ----------------------------------------------------------------------------------------------

def demo_input(seed=0, steps=3):
    rng = np.random.default_rng(seed)
    cfg = {
        "vocab_size": 23, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 16, "max_position_embeddings": 20, "type_vocab_size": 2,
        "layer_norm_eps": 1e-12, "pad_token_id": 0,
    }
    H, V = cfg["hidden_size"], cfg["vocab_size"]
    shapes = dict(trained_shapes(cfg))
    shapes.update({
        "bert/pooler/dense/kernel": (H, H), "bert/pooler/dense/bias": (H,),
        "cls/seq_relationship/output_weights": (2, H), "cls/seq_relationship/output_bias": (2,),
    })
    weights = {}
    for name, shape in shapes.items():
        if name.endswith("gamma"):
            w = 1.0 + 0.2 * rng.standard_normal(shape)
        elif name.endswith("beta") or "bias" in name:
            w = 0.1 * rng.standard_normal(shape)
        else:
            w = 0.4 * rng.standard_normal(shape)
        weights[name] = {"shape": list(shape), "values": w.ravel().tolist()}
    B, S, P = 2, 16, 4
    batches = []
    for _ in range(steps):
        ids = rng.integers(5, V, size=(B, S))
        ids[:, 0] = 2                                   # [CLS]
        seg = np.zeros((B, S), dtype=np.int64)
        seg[:, S // 2:] = 1
        ids[1, 11:] = 0                                 # padding at the end of example 1
        seg[1, 11:] = 0
        pos = np.zeros((B, P), dtype=np.int64)
        lab = np.zeros((B, P), dtype=np.int64)
        wts = np.zeros((B, P))
        for b, n_real in ((0, P), (1, 2)):              # example 1 has two zero-weight slots
            chosen = np.sort(rng.choice(np.arange(1, 11), size=n_real, replace=False))
            pos[b, :n_real] = chosen
            lab[b, :n_real] = ids[b, chosen]
            wts[b, :n_real] = 1.0
            ids[b, chosen[: max(1, n_real - 1)]] = 4    # [MASK]
        batches.append({
            "input_ids": ids.tolist(), "segment_ids": seg.tolist(), "masked_lm_positions": pos.tolist(),
            "masked_lm_ids": lab.tolist(), "masked_lm_weights": wts.tolist(),
        })
    return {
        "config": cfg, "weights": weights, "batches": batches,
        "optimizer": {"learning_rate": 1e-2, "num_warmup_steps": 2, "num_train_steps": 10,
                      "weight_decay_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-6},
        "start_step": 0, "accumulate": 1,
    }


def gradient_check(inp, seed=0, count=200):
    cfg = inp["config"]
    W = load_weights(cfg, inp["weights"])
    batch = inp["batches"][0]
    _, _, G = loss_and_grads(cfg, W, batch)
    rng = np.random.default_rng(seed + 1)
    names = list(G)
    # Every trained variable gets at least two probes; the rest are spread by size.
    picks = [(n, int(rng.integers(W[n].size))) for n in names for _ in range(2)]
    sizes = np.array([W[n].size for n in names], dtype=F)
    for i in rng.choice(len(names), size=max(0, count - len(picks)), p=sizes / sizes.sum()):
        picks.append((names[i], int(rng.integers(W[names[i]].size))))
    h = 3e-4
    worst_rel, worst_abs, worst_at = 0.0, 0.0, None
    per_var = {}
    for name, flat in picks:
        view = W[name].reshape(-1)
        orig = view[flat]
        f = {}
        for s in (-2, -1, 1, 2):
            view[flat] = orig + s * h
            f[s] = loss_and_grads(cfg, W, batch, need_grads=False)[0]
        view[flat] = orig
        numeric = (8.0 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12.0 * h)
        analytic = float(G[name].reshape(-1)[flat])
        err = abs(analytic - numeric)
        scale = max(abs(analytic), abs(numeric))
        rel = err / scale if scale > 1e-8 else 0.0
        worst_abs = max(worst_abs, err)
        if rel > worst_rel:
            worst_rel, worst_at = rel, f"{name}[{flat}]: analytic {analytic!r}, numeric {numeric!r}"
        per_var[name] = max(per_var.get(name, 0.0), rel)
    return {
        "checked": len(picks), "variables": len(names), "worst_rel_err": worst_rel,
        "worst_abs_err": worst_abs, "worst_at": worst_at, "per_variable_worst_rel": per_var,
    }


def main(argv):
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    if "--demo" in argv:
        json.dump(demo_input(seed), sys.stdout)
        sys.stdout.write("\n")
        return 0
    if "--check" in argv:
        inp = json.load(sys.stdin) if "--stdin" in argv else demo_input(seed)
        t0 = time.perf_counter()
        res = gradient_check(inp, seed)
        res["seconds"] = time.perf_counter() - t0
        json.dump(res, sys.stdout)
        sys.stdout.write("\n")
        print(f"checked {res['checked']} parameters of {res['variables']} variables: worst relative error "
              f"{res['worst_rel_err']:.3e} ({res['worst_at']}), worst absolute error {res['worst_abs_err']:.3e}",
              file=sys.stderr)
        return 0 if res["worst_rel_err"] < 1e-6 else 1
    out = replay(json.load(sys.stdin))
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
