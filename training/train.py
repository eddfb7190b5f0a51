"""Three-stage training of the PartRM network on the procedural dataset (CPU-friendly).

  stage 0  static reconstruction (stands in for the pretrained LGM that cannot be downloaded):
           view 0 of a state + zero-displacement drags -> Gaussians; photometric MSE (RGB + alpha)
           on view 0 and novel views of that state. Drag modules frozen (the static model has none).
           An optional geometric hint (xyz of view-0 splat pixels vs. the depth-map surface point,
           weight decaying to 0 over the first half) gets the from-scratch model out of the
           "all Gaussians at the origin" start within a CPU budget.
  stage 1  motion by knowledge distillation: the stage-0 model's Gaussians for the TARGET state
           (its own image) are the "Gaussian database"; the drag model sees the SOURCE image +
           propagated drags and regresses them (MSE on the 14 parameters).
  stage 2  appearance: MSE RGB + MSE alpha of the target state rendered at novel views.
Zero-displacement pairs (a == b) are part of every drag stage so the same network also gives
the initial state. Trashcan (split 'unseen') never trains; eval objects never train.

Usage (from the repository root):
  /usr/bin/python3 -m training.train --data out/train-v1 --eval-data out/eval-v1 --out training/runs/tiny
Resumes from OUT/last.pt when it exists. Progress: OUT/log.txt, OUT/history.jsonl, OUT/curves.png.
"""
import argparse
import copy
import json
import math
import os
import sys
import time

# Other processes share the 2 cores: spinning OpenMP workers then thrash (measured 20-40 s/step
# instead of 1.5 s with 2 threads); passive waiting keeps 2 threads useful.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np
import torch
import torch.nn.functional as F

from . import options as options_mod
from .data import Dataset
from .gaussians import render
from .model import PartRM, build_images, input_rays
from .plot_curves import curves_from_history
from .utils import plot_curves, psnr, seed_all


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='PartRM three-stage training')
    p.add_argument('--data', required=True)
    p.add_argument('--eval-data', default=None, help='held-out dataset (different seed); default: the eval split of --data')
    p.add_argument('--out', required=True)
    p.add_argument('--config', default='tiny')
    p.add_argument('--steps0', type=int, default=1200)
    p.add_argument('--steps1', type=int, default=500)
    p.add_argument('--steps2', type=int, default=900)
    p.add_argument('--minutes0', type=float, default=None, help='wall-clock cap of stage 0 (the LR schedule follows max(step, time) progress)')
    p.add_argument('--minutes1', type=float, default=None)
    p.add_argument('--minutes2', type=float, default=None)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--render-views', type=int, default=3, help='views rendered per sample (view 0 + random others)')
    p.add_argument('--render-size', type=int, default=64)
    p.add_argument('--lr0', type=float, default=1e-3)
    p.add_argument('--lr', type=float, default=5e-4)
    p.add_argument('--drag-lr-mult', type=float, default=1.0,
                   help='learning-rate multiplier of the drag path (MLPs + merge convs) in stages 1-2: it starts from a zero-initialised branch and learns slowly otherwise')
    p.add_argument('--p-same', type=float, default=0.2, help='share of zero-displacement pairs')
    p.add_argument('--mask-weight', type=float, default=0.0,
                   help='stage 2: extra weight of the RGB+alpha MSE inside the moving part (union of its source and target masks). '
                        'The part is a small share of every view, so the plain image loss barely sees whether it moved')
    p.add_argument('--xyz-hint', type=float, default=1.0)
    p.add_argument('--max-radius', type=int, default=8, help='splat patch radius cap in pixels (training only)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--ckpt-every', type=int, default=100)
    p.add_argument('--log-every', type=int, default=10)
    p.add_argument('--eval-pairs', type=int, default=2, help='eval drag pairs per series')
    return p.parse_args(argv)


class Logger:
    def __init__(self, path):
        self.f = open(path, 'a', buffering=1)

    def __call__(self, *a):
        s = ' '.join(str(x) for x in a)
        line = f'[{time.strftime("%H:%M:%S")}] {s}'
        print(line, flush=True)
        self.f.write(line + '\n')


def lr_at(step, progress, base, warmup=50):
    """Linear warm-up, then cosine to 10% over the stage's progress (0..1)."""
    if step < warmup:
        return base * (step + 1) / warmup
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


class Trainer:
    def __init__(self, args):
        self.args = args
        os.makedirs(args.out, exist_ok=True)
        self.log = Logger(os.path.join(args.out, 'log.txt'))
        torch.set_num_threads(args.threads)
        seed_all(args.seed)
        self.o = options_mod.get(args.config)
        self.ds = Dataset(args.data, self.o, args.render_size, log=self.log)
        self.eval_ds = Dataset(args.eval_data, self.o, args.render_size, log=self.log) if args.eval_data else self.ds
        self.rays = input_rays(self.o)
        self.model = PartRM(self.o)
        self.train_series = self.ds.series_of(['train'])
        self.log(f'config {self.o.name}: {sum(p.numel() for p in self.model.parameters()):,} parameters, '
                 f'{len(self.train_series)} train series, {self.o.gaussians} Gaussians')
        self.c2w = torch.from_numpy(self.ds.c2w_model)
        self.bg = self.o.background
        self.stage, self.step = 0, 0
        self.history = []
        self.metrics = {}
        self.teacher = None
        self.rng = np.random.default_rng(args.seed)
        self.opt = None
        self.t_stage = {}

    # ------------------------------------------------------------------ checkpoints
    def save(self, name='last.pt'):
        path = os.path.join(self.args.out, name)
        torch.save({
            'stage': self.stage, 'step': self.step, 'model': self.model.state_dict(),
            'opt': self.opt.state_dict() if self.opt else None,
            'teacher': self.teacher.state_dict() if self.teacher is not None else None,
            'rng': self.rng.bit_generator.state, 'torch_rng': torch.get_rng_state(),
            'history': self.history, 'metrics': self.metrics, 'config': self.o.to_dict(),
            'args': vars(self.args), 't_stage': self.t_stage,
        }, path + '.tmp')
        os.replace(path + '.tmp', path)

    def resume(self):
        path = os.path.join(self.args.out, 'last.pt')
        if not os.path.exists(path):
            return False
        ck = torch.load(path)
        self.model.load_state_dict(ck['model'])
        self.stage, self.step = ck['stage'], ck['step']
        self.history, self.metrics, self.t_stage = ck['history'], ck['metrics'], ck.get('t_stage', {})
        self.rng.bit_generator.state = ck['rng']
        torch.set_rng_state(ck['torch_rng'])
        if ck['teacher'] is not None:
            self.teacher = PartRM(self.o)
            self.teacher.load_state_dict(ck['teacher'])
            self.teacher.eval()
        self._make_opt()
        if ck['opt'] is not None:
            try:
                self.opt.load_state_dict(ck['opt'])
            except ValueError:
                pass
        self.log(f'resumed stage {self.stage} step {self.step}')
        return True

    def _make_opt(self):
        static = self.stage == 0
        for n, p in self.model.named_parameters():
            drag = n.startswith('unet.drag_position_net') or n.startswith('unet.conv_merges') or n == 'unet.alpha'
            p.requires_grad_(not (static and drag) and n != 'unet.alpha')
        def is_drag(n):
            return n.startswith('unet.drag_position_net') or n.startswith('unet.conv_merges')
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        mult = 1.0 if static else getattr(self.args, 'drag_lr_mult', 1.0)
        groups = [{'params': [p for n, p in named if not is_drag(n)], 'lr_mult': 1.0}]
        if any(is_drag(n) for n, _ in named):
            groups.append({'params': [p for n, p in named if is_drag(n)], 'lr_mult': mult})
        self.opt = torch.optim.AdamW(groups, lr=self.args.lr0 if static else self.args.lr, weight_decay=0.0, betas=(0.9, 0.95))

    # ------------------------------------------------------------------ batches
    def _images(self, ds, states):
        rgb = torch.from_numpy(ds.rgba[states, 0, :, :, :3]).float().div(255.0)      # [B,R,R,3]
        rgb = rgb.permute(0, 3, 1, 2)
        if rgb.shape[-1] != self.o.input_size:
            rgb = F.interpolate(rgb, size=(self.o.input_size, self.o.input_size), mode='bilinear', align_corners=False)
        return build_images(rgb.unsqueeze(1), self.rays, self.o)

    def _drags(self, samples):
        V = self.o.views
        s = torch.from_numpy(np.stack([x['start'] for x in samples])).unsqueeze(1).expand(-1, V, -1, -1)
        e = torch.from_numpy(np.stack([x['end'] for x in samples])).unsqueeze(1).expand(-1, V, -1, -1)
        return s.contiguous(), e.contiguous()

    def _samples(self, p_same):
        out = []
        while len(out) < self.args.batch:
            si = self.train_series[int(self.rng.integers(len(self.train_series)))]
            x = self.ds.sample_pair(self.rng, si, p_same=p_same)
            if x is not None:
                out.append(x)
        return out

    def _render_loss(self, g, ds, states, views_per, c2w, parts=None):
        """MSE RGB + MSE alpha over the rendered views of each sample's target state.

        parts: per sample (source state, part label); then also returns the same MSEs restricted
        to the moving part's pixels (union of its source and target masks, as `evaluate` scores)."""
        l_rgb, l_a, l_part = 0.0, 0.0, 0.0
        n = n_part = 0
        for i, st in enumerate(states):
            views = [0] + list(self.rng.choice(np.arange(1, ds.views), size=views_per - 1, replace=False))
            for v in views:
                rgb, a = render(g[i], ds.cams[v], c2w[v], self.bg, max_radius=self.args.max_radius)
                gt = torch.from_numpy(ds.rgba[st, v]).float().div(255.0)
                gt_rgb = gt[..., :3].permute(2, 0, 1)
                l_rgb = l_rgb + F.mse_loss(rgb, gt_rgb)
                l_a = l_a + F.mse_loss(a, gt[..., 3])
                n += 1
                if parts is not None:
                    src, label = parts[i]
                    m = torch.from_numpy((ds.masks[st, v] == label) | (ds.masks[src, v] == label)).float()
                    if m.sum() > 0:
                        se = ((rgb - gt_rgb) ** 2).mean(0) + (a - gt[..., 3]) ** 2
                        l_part = l_part + (se * m).sum() / m.sum()
                        n_part += 1
        if parts is None:
            return l_rgb / n, l_a / n
        return l_rgb / n, l_a / n, l_part / max(n_part, 1)

    # ------------------------------------------------------------------ stages
    def train_step(self, total, progress):
        a = self.args
        lr = lr_at(self.step, progress, a.lr0 if self.stage == 0 else a.lr)
        for gr in self.opt.param_groups:
            gr['lr'] = lr * gr.get('lr_mult', 1.0)
        self.model.train()
        logs = {}
        if self.stage == 0:
            samples = self._samples(p_same=1.0)        # zero displacement: a state onto itself
            states = [x['a'] for x in samples]
            ds_, de_ = self._drags(samples)
            g = self.model(self._images(self.ds, states), ds_, de_)
            l_rgb, l_a = self._render_loss(g, self.ds, states, a.render_views, self.c2w)
            loss = l_rgb + l_a
            w = a.xyz_hint * max(0.0, 1.0 - progress / 0.5)
            if w > 0:
                S = self.o.splat_size
                xyz = g[:, :S * S, 0:3].reshape(-1, S, S, 3)
                tgt = torch.from_numpy(self.ds.xyz0[states])
                ok = torch.from_numpy(self.ds.xyz0_ok[states]).float().unsqueeze(-1)
                l_xyz = ((xyz - tgt) ** 2 * ok).sum() / ok.sum().clamp_min(1) / 3
                loss = loss + w * l_xyz
                logs['xyz'] = l_xyz.item()
            logs.update(rgb=l_rgb.item(), alpha=l_a.item())
        else:
            samples = self._samples(p_same=a.p_same)
            src = [x['a'] for x in samples]
            tgt = [x['b'] for x in samples]
            ds_, de_ = self._drags(samples)
            g = self.model(self._images(self.ds, src), ds_, de_)
            if self.stage == 1:
                with torch.no_grad():
                    gt_g = self.teacher(self._images(self.ds, tgt), de_, de_)
                loss = F.mse_loss(g, gt_g)
                logs['distill'] = loss.item()
            elif a.mask_weight > 0:
                parts = [(x['a'], x['label']) for x in samples]
                l_rgb, l_a, l_part = self._render_loss(g, self.ds, tgt, a.render_views, self.c2w, parts=parts)
                loss = l_rgb + l_a + a.mask_weight * l_part
                logs.update(rgb=l_rgb.item(), alpha=l_a.item(), part=float(l_part))
            else:
                l_rgb, l_a = self._render_loss(g, self.ds, tgt, a.render_views, self.c2w)
                loss = l_rgb + l_a
                logs.update(rgb=l_rgb.item(), alpha=l_a.item())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], 1.0)
        self.opt.step()
        logs.update(loss=loss.item(), lr=lr, gnorm=float(gn))
        return logs

    def run(self):
        a = self.args
        if not self.resume():
            self._make_opt()
        totals = [a.steps0, a.steps1, a.steps2]
        budgets = [a.minutes0, a.minutes1, a.minutes2]
        while self.stage < 3:
            total = totals[self.stage]
            budget = budgets[self.stage] * 60.0 if budgets[self.stage] else None
            key = str(self.stage)
            t0 = time.time()
            done0 = self.t_stage.get(key, 0.0)
            step0 = self.step

            def progress():
                el = done0 + time.time() - t0
                return max(self.step / total, el / budget if budget else 0.0), el

            while progress()[0] < 1.0:
                logs = self.train_step(total, progress()[0])
                self.step += 1
                self.history.append({'stage': self.stage, 'step': self.step, **logs})
                pr, el = progress()
                if self.step % a.log_every == 0 or pr >= 1.0:
                    dt = (time.time() - t0) / (self.step - step0)
                    left = (1.0 - pr) * el / max(pr, 1e-9)
                    recent = [h for h in self.history[-a.log_every:] if h['stage'] == self.stage]
                    msg = ' '.join(f'{k} {np.mean([h[k] for h in recent if k in h]):.5f}' for k in logs if k not in ('lr', 'gnorm'))
                    self.log(f'stage {self.stage} step {self.step}/{total} ({100 * pr:.0f}%) {msg} lr {logs["lr"]:.2e} | {dt:.2f} s/step, stage left {left / 60:.1f} min')
                if self.step % a.ckpt_every == 0 or pr >= 1.0:
                    self.t_stage[key] = done0 + time.time() - t0
                    self.save()
                    self.curves()
            self.t_stage[key] = done0 + time.time() - t0
            self.t_stage[f'steps{key}'] = self.step
            # stage end: evaluate, freeze the teacher after stage 0, move on
            self.save(f'stage{self.stage}.pt')
            self.metrics[f'stage{self.stage}'] = self.evaluate(static=self.stage == 0, pairs=a.eval_pairs if self.stage == 2 else 1)
            self.log(f'stage {self.stage} eval: {json.dumps(self.metrics[f"stage{self.stage}"])}')
            if self.stage == 0:
                self.teacher = copy.deepcopy(self.model).eval()
                for p in self.teacher.parameters():
                    p.requires_grad_(False)
            self.stage += 1
            self.step = 0
            if self.stage < 3:
                self._make_opt()
            self.save()
            self.curves()
        with open(os.path.join(a.out, 'metrics.json'), 'w') as f:
            json.dump({'metrics': self.metrics, 'stages': self.stage_summary(), 'args': vars(a), 'config': self.o.to_dict(),
                       'command': 'python3 -m training.train ' + ' '.join(sys.argv[1:])}, f, indent=1)
        self.log('done')

    def stage_summary(self):
        names = {0: 'static reconstruction (photometric RGB+alpha MSE, depth xyz hint)', 1: 'motion distillation (MSE on 14 Gaussian parameters vs stage-0 teacher on the target state)', 2: 'appearance (MSE RGB + MSE alpha on novel views of the target state)'}
        if self.args.mask_weight > 0:
            names[2] += f' + {self.args.mask_weight} x the same MSEs inside the moving part'
        out = {}
        for s in range(3):
            hs = [h for h in self.history if h['stage'] == s]
            if not hs:
                continue
            tail = hs[-50:]
            out[f'stage{s}'] = {'what': names[s], 'steps': len(hs), 'seconds': round(self.t_stage.get(str(s), 0.0), 1),
                                'final_loss_mean50': float(np.mean([h['loss'] for h in tail]))}
        return out

    def curves(self):
        plot_curves(os.path.join(self.args.out, 'curves.png'), curves_from_history(self.history))

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, static=False, pairs=2):
        return evaluate(self.model, self.eval_ds, self.o, static=static, pairs=pairs,
                        held_out_split='eval' if self.eval_ds is self.ds else None)


@torch.no_grad()
def predict(model, o, ds, rays, states, starts, ends):
    model.eval()
    V = o.views
    rgb = torch.from_numpy(ds.rgba[states, 0, :, :, :3]).float().div(255.0).permute(0, 3, 1, 2)
    if rgb.shape[-1] != o.input_size:
        rgb = F.interpolate(rgb, size=(o.input_size, o.input_size), mode='bilinear', align_corners=False)
    images = build_images(rgb.unsqueeze(1), rays, o)
    s = torch.from_numpy(np.stack(starts)).unsqueeze(1).expand(-1, V, -1, -1).contiguous()
    e = torch.from_numpy(np.stack(ends)).unsqueeze(1).expand(-1, V, -1, -1).contiguous()
    return model(images, s, e)


@torch.no_grad()
def evaluate(model, ds, o, static=False, pairs=2, held_out_split=None):
    """PSNR of the predicted dragged state over all dataset views (render size, white bg),
    against the no-motion baseline (initial state predicted with zero drags, compared to the
    target), full image and inside the moving part's mask (union over source and target).
    Seen categories and the unseen trashcan are reported separately. With held_out_split, only
    that split (and 'unseen') of ds is used; otherwise every object of ds (a held-out dataset)."""
    rng = np.random.default_rng(1234)
    rays = input_rays(o)
    c2w = torch.from_numpy(ds.c2w_model)
    bg = o.background
    groups = {}
    for si, sr in enumerate(ds.series):
        if held_out_split is not None and sr['split'] not in (held_out_split, 'unseen'):
            continue
        group = 'unseen' if sr['split'] == 'unseen' else 'seen'
        S = len(sr['states'])
        plist = [(0, 0)] if static else [(0, S - 1), (S - 1, 0), (1, S - 2)][:pairs]
        for (a, b) in plist:
            x = ds.sample_pair(rng, si, a=a, b=b)
            if x is None:
                continue
            g = predict(model, o, ds, rays, [x['a'], x['a']], [x['start'], x['start']], [x['end'], x['start']])
            acc = groups.setdefault(group, {'mse': [], 'mse_base': [], 'mse_mask': [], 'mse_mask_base': [], 'n': 0})
            se = sb = sm = smb = 0.0
            npx = npm = 0
            for v in range(ds.views):
                gt = torch.from_numpy(ds.rgba[x['b'], v]).float().div(255.0)[..., :3].permute(2, 0, 1)
                m = torch.from_numpy((ds.masks[x['b'], v] == x['label']) | (ds.masks[x['a'], v] == x['label'])).float()
                p, _ = render(g[0], ds.cams[v], c2w[v], bg)
                q = p if static else render(g[1], ds.cams[v], c2w[v], bg)[0]
                d1 = ((p - gt) ** 2).sum(0)
                d0 = ((q - gt) ** 2).sum(0)
                se += d1.sum().item(); sb += d0.sum().item(); npx += d1.numel() * 3
                sm += (d1 * m).sum().item(); smb += (d0 * m).sum().item(); npm += m.sum().item() * 3
            acc['mse'].append(se / npx); acc['mse_base'].append(sb / npx)
            if npm > 0:
                acc['mse_mask'].append(sm / npm); acc['mse_mask_base'].append(smb / npm)
            acc['n'] += 1
    out = {}
    for k, acc in groups.items():
        out[k] = {
            'pairs': acc['n'],
            'psnr': float(np.mean([psnr(m) for m in acc['mse']])),
            'psnr_no_motion': float(np.mean([psnr(m) for m in acc['mse_base']])),
            'psnr_mask': float(np.mean([psnr(m) for m in acc['mse_mask']])) if acc['mse_mask'] else None,
            'psnr_mask_no_motion': float(np.mean([psnr(m) for m in acc['mse_mask_base']])) if acc['mse_mask_base'] else None,
        }
    return out


def main(argv=None):
    args = parse_args(argv)
    Trainer(args).run()


if __name__ == '__main__':
    main()
