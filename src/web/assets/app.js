// The operator page: draw drags on the image, run the pipeline, view Gaussians, axis and URDF.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { OBJLoader } from 'three/addons/loaders/OBJLoader.js';
import { STLLoader } from 'three/addons/loaders/STLLoader.js';
import URDFLoader from 'urdf-loader';

const $ = (id) => document.getElementById(id);
const state = { image: null, imageUrl: null, drags: [], scale: 1, drawing: null, result: null, live: false, liveTimer: null, robot: null, joint: null };
window.__partrm = state;

function setStatus(text, kind = 'info') {
  $('status').textContent = text;
  $('status').dataset.kind = kind;
}

// ------------------------------------------------------------------ 2D image + drags

const canvas = $('image-canvas');
const ctx = canvas.getContext('2d');

function drawArrow(x0, y0, x1, y1, color) {
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 3;
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  const a = Math.atan2(y1 - y0, x1 - x0);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 12 * Math.cos(a - 0.45), y1 - 12 * Math.sin(a - 0.45));
  ctx.lineTo(x1 - 12 * Math.cos(a + 0.45), y1 - 12 * Math.sin(a + 0.45));
  ctx.closePath();
  ctx.fill();
  ctx.beginPath();
  ctx.arc(x0, y0, 4, 0, 2 * Math.PI);
  ctx.fill();
}

function redraw() {
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (state.image) ctx.drawImage(state.image, 0, 0, canvas.width, canvas.height);
  const s = state.scale;
  for (const d of state.drags) drawArrow(d.start[0] * s, d.start[1] * s, d.end[0] * s, d.end[1] * s, '#e0202a');
  if (state.drawing) drawArrow(state.drawing.x0, state.drawing.y0, state.drawing.x1, state.drawing.y1, '#f08080');
  $('drags').textContent = state.drags.map((d, i) => `drag ${i}: (${d.start.map((v) => v.toFixed(1)).join(', ')}) -> (${d.end.map((v) => v.toFixed(1)).join(', ')})`).join('\n');
  $('run').disabled = !(state.image && state.drags.length > 0);
}

async function setImage(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  const first = !state.image || state.image.naturalWidth !== img.naturalWidth || state.image.naturalHeight !== img.naturalHeight;
  state.image = img;
  state.imageUrl = url;
  const fit = 512 / Math.max(img.naturalWidth, img.naturalHeight);
  state.scale = fit;
  canvas.width = Math.round(img.naturalWidth * fit);
  canvas.height = Math.round(img.naturalHeight * fit);
  if (first) state.drags = [];
  redraw();
}

function canvasPoint(ev) {
  const r = canvas.getBoundingClientRect();
  return { x: ((ev.clientX - r.left) * canvas.width) / r.width, y: ((ev.clientY - r.top) * canvas.height) / r.height };
}

canvas.addEventListener('pointerdown', (ev) => {
  if (!state.image) return;
  const p = canvasPoint(ev);
  state.drawing = { x0: p.x, y0: p.y, x1: p.x, y1: p.y };
  canvas.setPointerCapture(ev.pointerId);
});
canvas.addEventListener('pointermove', (ev) => {
  if (!state.drawing) return;
  const p = canvasPoint(ev);
  state.drawing.x1 = p.x;
  state.drawing.y1 = p.y;
  redraw();
});
canvas.addEventListener('pointerup', (ev) => {
  const d = state.drawing;
  state.drawing = null;
  if (!d) return;
  const p = canvasPoint(ev);
  d.x1 = p.x;
  d.y1 = p.y;
  const s = state.scale;
  const w = state.image.naturalWidth, h = state.image.naturalHeight;
  const clamp = (v, hi) => Math.min(Math.max(v, 0), hi);
  if (Math.hypot(d.x1 - d.x0, d.y1 - d.y0) >= 3) {
    state.drags.push({ start: [clamp(d.x0 / s, w - 0.01), clamp(d.y0 / s, h - 0.01)], end: [clamp(d.x1 / s, w), clamp(d.y1 / s, h)] });
  }
  redraw();
});

$('load-sample').addEventListener('click', async () => {
  stopLive();
  await setImage(`/api/sample.png?t=${Date.now()}`);
  setStatus('sample loaded: drag on the image, then Run');
  document.body.dataset.state = 'image';
});
$('upload').addEventListener('change', async (ev) => {
  const f = ev.target.files && ev.target.files[0];
  if (!f) return;
  stopLive();
  await setImage(URL.createObjectURL(f));
  setStatus(`${f.name} loaded`);
  document.body.dataset.state = 'image';
});
$('clear').addEventListener('click', () => {
  state.drags = [];
  redraw();
});

function stopLive() {
  $('follow-live').checked = false;
  if (state.liveTimer) clearInterval(state.liveTimer);
  state.liveTimer = null;
}
$('follow-live').addEventListener('change', () => {
  if (!$('follow-live').checked) return stopLive();
  const tick = async () => {
    const r = await fetch('/api/live.png');
    if (!r.ok) return setStatus('waiting for the live ROS image…');
    await setImage(URL.createObjectURL(await r.blob()));
  };
  tick();
  state.liveTimer = setInterval(tick, 1000);
});

/** The image as sent to the server: the original pixels as PNG. */
async function imagePngBase64() {
  const c = document.createElement('canvas');
  c.width = state.image.naturalWidth;
  c.height = state.image.naturalHeight;
  c.getContext('2d').drawImage(state.image, 0, 0);
  return c.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

$('run').addEventListener('click', async () => {
  $('run').disabled = true;
  document.body.dataset.state = 'running';
  setStatus(`running on ${state.drags.length} drag(s)…`);
  const t0 = performance.now();
  try {
    const r = await fetch('/api/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: await imagePngBase64(), drags: state.drags }) });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
    state.result = body;
    await showResult(body);
    setStatus(`request ${body.request}: ${body.articulation.joints.map((j) => j.type).join(', ') || 'no joint'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    document.body.dataset.state = 'done';
  } catch (err) {
    setStatus(String(err.message || err), 'error');
    document.body.dataset.state = 'error';
  } finally {
    $('run').disabled = !(state.image && state.drags.length > 0);
  }
});

// ------------------------------------------------------------------ 3D view

const view = $('view3d');
const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(1);
renderer.setClearColor(0xffffff, 1);
view.appendChild(renderer.domElement);
const scene = new THREE.Scene();
const camera = new THREE.PerspectiveCamera(40, 1, 0.01, 100);
const controls = new OrbitControls(camera, renderer.domElement);
scene.add(new THREE.AmbientLight(0xffffff, 0.7));
const sun = new THREE.DirectionalLight(0xffffff, 0.9);
sun.position.set(2, 3, 4);
scene.add(sun);
// ROS / URDF frames are z-up; three.js is y-up.
const world = new THREE.Group();
world.rotation.x = -Math.PI / 2;
scene.add(world);
const grid = new THREE.GridHelper(2, 20, 0xbbbbbb, 0xdddddd);
scene.add(grid);
const layers = { dragged: null, initial: null, axis: null, urdf: null };

function resize() {
  const w = view.clientWidth || 600, h = view.clientHeight || 520;
  renderer.setSize(w, h);
  camera.aspect = w / h;
  camera.updateProjectionMatrix();
}
window.addEventListener('resize', resize);
resize();
(function loop() {
  requestAnimationFrame(loop);
  controls.update();
  renderer.render(scene, camera);
})();

function decode(b64, Type) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Type(bytes.buffer);
}

/** A minimal splat viewer: round soft points, per-point colour and opacity, size in world units. */
function splats(g, pointSize, tint) {
  const geom = new THREE.BufferGeometry();
  geom.setAttribute('position', new THREE.BufferAttribute(decode(g.positions, Float32Array), 3));
  geom.setAttribute('color', new THREE.BufferAttribute(decode(g.colors, Uint8Array), 3, true));
  geom.setAttribute('opacity', new THREE.BufferAttribute(decode(g.opacities, Float32Array), 1));
  const mat = new THREE.ShaderMaterial({
    transparent: true,
    depthWrite: false,
    uniforms: { size: { value: pointSize }, scale: { value: 600 }, tint: { value: new THREE.Vector4(tint[0], tint[1], tint[2], tint[3]) } },
    vertexShader: `attribute float opacity; varying vec3 vColor; varying float vOpacity; uniform float size; uniform float scale;
      void main() { vColor = color; vOpacity = opacity; vec4 mv = modelViewMatrix * vec4(position, 1.0);
        gl_PointSize = max(2.0, size * scale / -mv.z); gl_Position = projectionMatrix * mv; }`,
    fragmentShader: `varying vec3 vColor; varying float vOpacity; uniform vec4 tint;
      void main() { vec2 d = gl_PointCoord - 0.5; float r2 = dot(d, d) * 4.0; if (r2 > 1.0) discard;
        gl_FragColor = vec4(mix(vColor, tint.rgb, tint.a), vOpacity * exp(-2.0 * r2)); }`,
    vertexColors: true,
  });
  return new THREE.Points(geom, mat);
}

function axisMesh(joint, length, color) {
  const g = new THREE.Group();
  // Transparent (opacity 1) with a high renderOrder: drawn after the splats and meshes, always visible.
  const mat = new THREE.MeshBasicMaterial({ color: new THREE.Color(color.r, color.g, color.b), depthTest: false, depthWrite: false, transparent: true, opacity: 1 });
  const r = length * 0.025;
  const shaft = new THREE.Mesh(new THREE.CylinderGeometry(r, r, length, 16), mat);
  const head = new THREE.Mesh(new THREE.ConeGeometry(r * 2.5, length * 0.15, 16), mat);
  head.position.y = length / 2 + length * 0.075;
  g.add(shaft, head);
  // Cylinders are along +y: rotate onto the joint axis, centre on the origin.
  g.quaternion.setFromUnitVectors(new THREE.Vector3(0, 1, 0), new THREE.Vector3(...joint.axis).normalize());
  g.position.set(...joint.origin);
  g.renderOrder = 10;
  shaft.renderOrder = head.renderOrder = 10;
  return g;
}

function clearLayer(name) {
  if (layers[name]) world.remove(layers[name]);
  layers[name] = null;
}

async function showResult(res) {
  for (const k of Object.keys(layers)) clearLayer(k);
  const pos = decode(res.dragged.positions, Float32Array);
  const box = new THREE.Box3();
  for (let i = 0; i < pos.length; i += 3) box.expandByPoint(new THREE.Vector3(pos[i], pos[i + 1], pos[i + 2]));
  const size = box.getSize(new THREE.Vector3()).length() || 1;
  const centre = box.getCenter(new THREE.Vector3());
  layers.dragged = splats(res.dragged, size / 60, [0, 0, 0, 0]);
  layers.initial = splats(res.initial, size / 60, [0.2, 0.4, 1, 0.6]);
  const axes = new THREE.Group();
  for (const j of res.articulation.joints) axes.add(axisMesh(j, size * 0.7, res.axisColor));
  layers.axis = axes;
  world.add(layers.dragged, layers.initial, layers.axis);
  try {
    layers.urdf = await loadUrdf(res);
    world.add(layers.urdf);
  } catch (err) {
    setStatus(`URDF view: ${err.message}`, 'error');
  }
  applyToggles();
  // Frame the object from the camera's side (view 0 of the rig looks from +x), a little above.
  const c = new THREE.Vector3(centre.x, centre.z, -centre.y);
  camera.position.set(c.x + size * 1.3, c.y + size * 0.8, c.z + size * 0.5);
  controls.target.copy(c);
  controls.update();
  grid.position.y = box.min.z;
  $('urdf').textContent = res.urdf;
  $('articulation').textContent = res.articulation.joints
    .map((j) => `${j.type}: axis (${j.axis.map((v) => v.toFixed(3)).join(', ')}) origin (${j.origin.map((v) => v.toFixed(3)).join(', ')}) motion ${j.motion.toFixed(3)} limits [${j.limits.map((v) => v.toFixed(3)).join(', ')}] confidence ${j.confidence.toFixed(2)}`)
    .join('\n') + (res.rollout ? `\nsimulated opening (${res.rollout.task}, joint ${res.rollout.joint}): success ${(res.rollout.success_rate * 100).toFixed(0)}% of ${res.rollout.trials} trial(s); Rollout plays the first trajectory` : '') + `\ntimings: ${Object.entries(res.timings).map(([k, v]) => `${k} ${Number(v).toFixed(0)} ms`).join(', ')}`;
}

async function loadUrdf(res) {
  const manager = new THREE.LoadingManager();
  const loader = new URDFLoader(manager);
  loader.workingPath = res.filesBase || '/';
  loader.packages = res.filesBase || '/';
  loader.loadMeshCb = (url, mgr, _urdfMaterial, done) => {
    const ext = url.split('?')[0].split('.').pop().toLowerCase();
    const material = new THREE.MeshStandardMaterial({ color: 0x8899aa, transparent: true, opacity: 0.55 });
    if (ext === 'obj') new OBJLoader(mgr).load(url, (obj) => { obj.traverse((m) => { if (m.isMesh) m.material = material; }); done(obj); }, undefined, (e) => done(null, e));
    else if (ext === 'stl') new STLLoader(mgr).load(url, (geom) => done(new THREE.Mesh(geom, material)), undefined, (e) => done(null, e));
    else done(null, new Error(`unsupported mesh ${url}`));
  };
  const robot = loader.parse(res.urdf);
  await new Promise((ok) => { manager.onLoad = ok; setTimeout(ok, 3000); });
  state.robot = robot;
  const movable = Object.values(robot.joints).find((j) => j.jointType === 'prismatic' || j.jointType === 'revolute');
  state.joint = movable || null;
  const slider = $('joint');
  if (movable) {
    slider.min = String(movable.limit.lower);
    slider.max = String(movable.limit.upper);
    slider.value = String(movable.angle ?? 0);
    slider.disabled = false;
    $('play').disabled = false;
  }
  return robot;
}

$('joint').addEventListener('input', () => {
  if (state.robot && state.joint) state.robot.setJointValue(state.joint.name, Number($('joint').value));
});

/** Rollout: the simulated trajectory when the pipeline wrote one (rollout.json), else a sweep over the limits. */
$('play').addEventListener('click', async () => {
  if (!state.robot || !state.joint) return;
  let traj = null;
  const url = state.result && state.result.files && state.result.files['rollout.json'];
  if (url) {
    try {
      const r = await (await fetch(url)).json();
      traj = r.trajectory && Array.isArray(r.trajectory.t) ? r.trajectory : null;
    } catch { traj = null; }
  }
  const lo = state.joint.limit.lower, hi = state.joint.limit.upper;
  const t = traj && traj.t ? traj.t : Array.from({ length: 61 }, (_, i) => i / 30);
  const q = traj && traj.joint ? traj.joint : t.map((s) => lo + (hi - lo) * (s <= 1 ? s : 2 - s));
  const t0 = performance.now();
  const step = () => {
    const s = (performance.now() - t0) / 1000;
    let i = 0;
    while (i < t.length - 1 && t[i + 1] <= s) i++;
    state.robot.setJointValue(state.joint.name, q[i]);
    $('joint').value = String(q[i]);
    if (i < t.length - 1) requestAnimationFrame(step);
  };
  step();
});

function applyToggles() {
  if (layers.dragged) layers.dragged.visible = $('show-dragged').checked;
  if (layers.initial) layers.initial.visible = $('show-initial').checked;
  if (layers.urdf) layers.urdf.visible = $('show-urdf').checked;
  if (layers.axis) layers.axis.visible = $('show-axis').checked;
}
for (const id of ['show-dragged', 'show-initial', 'show-urdf', 'show-axis']) $(id).addEventListener('change', applyToggles);

// ------------------------------------------------------------------ start

(async () => {
  try {
    const info = await (await fetch('/api/info')).json();
    state.live = info.live;
    $('follow-live').disabled = !info.live;
    setStatus(info.live ? 'ready: follow the live ROS image or load an image' : 'ready: load the sample or upload an image');
  } catch (err) {
    setStatus(`cannot reach the server: ${err.message}`, 'error');
  }
  redraw();
  document.body.dataset.state = 'ready';
})();
