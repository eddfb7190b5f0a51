"""Differentiable Gaussian splat rasteriser in pure PyTorch (dense: every Gaussian x every pixel).

One definition of a camera and a splat, shared with the TypeScript CPU renderer
(src/gaussians/render.ts); both follow this spec exactly:
- camera: OpenCV pinhole (fx, fy, cx, cy, width, height) + camToWorld 4x4 (OpenCV optical);
  pixel (x, y) has its centre at (x + 0.5, y + 0.5);
- Sigma3D = R S S^T R^T, R from the unit quaternion (w, x, y, z), S = diag(scale);
- Sigma2D = J W Sigma3D W^T J^T + 0.3 I (EWA; J the perspective Jacobian at the camera-space
  mean, W the world->camera rotation);
- Gaussians with camera z <= 0.01 are skipped; colour = rgb (no SH);
- sorted by camera z ascending (front to back);
- alpha_i = min(0.99, opacity * exp(-1/2 d^T Sigma2D^-1 d)); alpha_i < 1/255 is skipped;
- C = sum c_i alpha_i T_i, T_i = prod_{j<i} (1 - alpha_j); a pixel stops once T < 1e-4
  (so Gaussian i counts iff T_i >= 1e-4); alpha = 1 - T_final; out = C + (1 - alpha) * bg.
`render_dense` evaluates every Gaussian at every pixel (G x H x W; the reference for tests).
`render` is the same maths on each Gaussian's support only: alpha >= 1/255 needs
d^T Sigma^-1 d <= 2 ln(255 opacity), i.e. a radius of sqrt(2 ln(255 opacity) lambda_max) pixels, so
a square patch of that radius around the mean loses nothing; the per-pixel front-to-back product is
a segmented cumulative sum of log(1 - alpha) over (pixel, depth)-sorted entries (float64, so the
subtraction of segment offsets keeps full precision). `max_radius` optionally caps the patch
(training speed; documented truncation of huge splats), None = exact.
"""
import torch

ALPHA_MIN = 1.0 / 255.0
ALPHA_MAX = 0.99
T_MIN = 1e-4
NEAR = 0.01
DILATION = 0.3


def quat_to_rotmat(q: torch.Tensor) -> torch.Tensor:
    """q [G,4] (w,x,y,z), normalised here -> [G,3,3]."""
    q = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    w, x, y, z = q.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], -1).reshape(-1, 3, 3)


def render_dense(g: torch.Tensor, cam: dict, c2w: torch.Tensor, bg=(1.0, 1.0, 1.0)):
    """g [G,14] activated Gaussians; cam {fx,fy,cx,cy,width,height}; c2w [4,4] OpenCV.

    Returns rgb [3,H,W] composited on bg and alpha [H,W].
    """
    dtype = g.dtype
    H, W = int(cam['height']), int(cam['width'])
    bgt = torch.tensor(bg, dtype=dtype).view(3, 1, 1)
    pr = _project(g, cam, c2w)                                 # culled, front to back
    if pr is None:
        return bgt.expand(3, H, W).clone(), torch.zeros(H, W, dtype=dtype)
    u, v, a, b, c, det, op, rgb = pr
    ia, ib, ic = c / det, -b / det, a / det                    # inverse (conic)

    px = torch.arange(W, dtype=dtype) + 0.5
    py = torch.arange(H, dtype=dtype) + 0.5
    dx = px.view(1, 1, W) - u.view(-1, 1, 1)                   # [G,1,W]
    dy = py.view(1, H, 1) - v.view(-1, 1, 1)                   # [G,H,1]
    power = -0.5 * (ia.view(-1, 1, 1) * dx * dx + 2 * ib.view(-1, 1, 1) * dx * dy + ic.view(-1, 1, 1) * dy * dy)
    alpha = (op.view(-1, 1, 1) * torch.exp(power)).clamp_max(ALPHA_MAX)   # [G,H,W]
    alpha = alpha * (alpha >= ALPHA_MIN).to(dtype)
    log_t = torch.cumsum(torch.log1p(-alpha), 0)                            # inclusive
    t_excl = torch.exp(torch.cat([torch.zeros_like(log_t[:1]), log_t[:-1]], 0))
    alpha = alpha * (t_excl.detach() >= T_MIN).to(dtype)                    # early stop per pixel
    wgt = alpha * t_excl
    col = torch.einsum('ghw,gc->chw', wgt, rgb)
    acc = 1.0 - torch.exp(torch.log1p(-alpha).sum(0))
    return col + (1.0 - acc).unsqueeze(0) * bgt, acc


def _project(g, cam, c2w):
    """Culls, sorts front to back and projects: per-Gaussian (u, v, 2D covariance a, b, c, its det, opacity, rgb), or None."""
    dtype = g.dtype
    c2w = c2w.to(dtype)
    Rw = c2w[:3, :3].T
    tw = -Rw @ c2w[:3, 3]
    xyz, op, scale, rot, rgb = g[:, 0:3], g[:, 3], g[:, 4:7], g[:, 7:11], g[:, 11:14]
    p = xyz @ Rw.T + tw
    keep = (p[:, 2] > NEAR) & (op >= ALPHA_MIN)
    idx = torch.nonzero(keep).squeeze(1)
    if idx.numel() == 0:
        return None
    p, op, scale, rot, rgb = p[idx], op[idx], scale[idx], rot[idx], rgb[idx]
    order = torch.argsort(p[:, 2].detach(), stable=True)
    p, op, scale, rot, rgb = p[order], op[order], scale[order], rot[order], rgb[order]
    fx, fy, cx, cy = float(cam['fx']), float(cam['fy']), float(cam['cx']), float(cam['cy'])
    x, y, z = p.unbind(-1)
    u = fx * x / z + cx
    v = fy * y / z + cy
    M = quat_to_rotmat(rot) * scale.unsqueeze(1)
    S3 = M @ M.transpose(1, 2)
    zero = torch.zeros_like(z)
    J = torch.stack([fx / z, zero, -fx * x / (z * z), zero, fy / z, -fy * y / (z * z)], -1).reshape(-1, 2, 3)
    T = J @ Rw
    S2 = T @ S3 @ T.transpose(1, 2)
    a = S2[:, 0, 0] + DILATION
    b = S2[:, 0, 1]
    c = S2[:, 1, 1] + DILATION
    det = a * c - b * b
    return u, v, a, b, c, det, op, rgb


def render(g: torch.Tensor, cam: dict, c2w: torch.Tensor, bg=(1.0, 1.0, 1.0), max_radius=None):
    """Same contract and result as render_dense, evaluated on each Gaussian's support only."""
    dtype = g.dtype
    H, W = int(cam['height']), int(cam['width'])
    bgt = torch.tensor(bg, dtype=dtype).view(3, 1, 1)
    pr = _project(g, cam, c2w)
    if pr is None:
        return bgt.expand(3, H, W).clone(), torch.zeros(H, W, dtype=dtype)
    u, v, a, b, c, det, op, rgb = pr
    Gn = u.shape[0]
    ia, ib, ic = c / det, -b / det, a / det
    with torch.no_grad():
        lam = 0.5 * (a + c) + torch.sqrt((0.25 * (a - c) ** 2 + b * b).clamp_min(0))
        rad = torch.sqrt(2.0 * torch.log(255.0 * op).clamp_min(0) * lam)
        R = int(torch.ceil(rad.max()).item()) + 1
        if max_radius is not None:
            R = min(R, int(max_radius))
        off = torch.arange(-R, R + 1)
        oy, ox = torch.meshgrid(off, off, indexing='ij')
        ox, oy = ox.reshape(1, -1), oy.reshape(1, -1)
        px = torch.floor(u).long().view(-1, 1) + ox            # [G, K^2]
        py = torch.floor(v).long().view(-1, 1) + oy
        inside = (px >= 0) & (px < W) & (py >= 0) & (py < H)
    dx = px.to(dtype) + 0.5 - u.view(-1, 1)
    dy = py.to(dtype) + 0.5 - v.view(-1, 1)
    power = -0.5 * (ia.view(-1, 1) * dx * dx + 2 * ib.view(-1, 1) * dx * dy + ic.view(-1, 1) * dy * dy)
    alpha = (op.view(-1, 1) * torch.exp(power)).clamp_max(ALPHA_MAX)
    with torch.no_grad():
        sel = torch.nonzero((inside & (alpha >= ALPHA_MIN)).reshape(-1)).squeeze(1)
        gi = sel // ox.shape[1]                                # Gaussian rank (depth order)
        pix = (py.reshape(-1)[sel] * W + px.reshape(-1)[sel])
        # stable sort by pixel keeps depth order inside each pixel (entries are rank-major)
        pix_sorted, perm = torch.sort(pix, stable=True)
        ent = sel[perm]
        gi = gi[perm]
        first = torch.ones_like(pix_sorted, dtype=torch.bool)
        first[1:] = pix_sorted[1:] != pix_sorted[:-1]
        seg = torch.cumsum(first.long(), 0) - 1
        first_idx = torch.nonzero(first).squeeze(1)
    a_e = alpha.reshape(-1)[ent]
    la = torch.log1p(-a_e.double())
    cs = torch.cumsum(la, 0)
    excl = cs - la
    log_t = excl - excl[first_idx][seg]
    t_excl = torch.exp(log_t).to(dtype)
    a_e = a_e * (t_excl.detach() >= T_MIN).to(dtype)
    wgt = a_e * t_excl
    col = torch.zeros(H * W, 3, dtype=dtype).index_add(0, pix_sorted, wgt.unsqueeze(1) * rgb[gi])
    logT = torch.zeros(H * W, dtype=torch.float64).index_add(0, pix_sorted, torch.log1p(-a_e.double()))
    acc = (1.0 - torch.exp(logT)).to(dtype)
    col = col.T.reshape(3, H, W)
    acc = acc.reshape(H, W)
    return col + (1.0 - acc).unsqueeze(0) * bgt, acc
