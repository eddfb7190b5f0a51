import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { defaultParams } from '../src/ros/rclnodejs-adapter.js';

const read = (p: string) => readFileSync(p, 'utf8');

test('ROS package files: package.xml, CMakeLists, bridge executable', () => {
  const pkg = read('ros/package.xml');
  assert.match(pkg, /<name>partrm<\/name>/);
  assert.match(pkg, /<build_type>ament_cmake<\/build_type>/);
  assert.match(pkg, /<member_of_group>rosidl_interface_packages<\/member_of_group>/);
  assert.doesNotMatch(pkg.replace(/^<!--|-->$/gm, ''), /<!--[^]*?--[^>][^]*?-->/, 'no "--" inside XML comments');
  const version = (JSON.parse(read('package.json')) as { version: string }).version;
  assert.match(pkg, new RegExp(`<version>${version.replace(/\./g, '\\.')}</version>`), 'package.xml version follows package.json');
  const cmake = read('ros/CMakeLists.txt');
  for (const m of cmake.matchAll(/"(msg\/\w+\.msg)"/g)) assert.ok(existsSync(`ros/${m[1]}`), m[1]);
  assert.match(cmake, /rosidl_generate_interfaces\(\$\{PROJECT_NAME\}/);
  assert.match(cmake, /install\(PROGRAMS scripts\/bridge DESTINATION lib\/\$\{PROJECT_NAME\}\)/);
  assert.match(cmake, /launch\/bridge" "\$\{PARTRM_ROOT\}\/launch\/bridge\.launch\.py"/);
  const shim = read('ros/scripts/bridge');
  assert.ok((statSync('ros/scripts/bridge').mode & 0o111) !== 0, 'bridge is executable');
  assert.match(shim, /share\/partrm\/dist\/ros\/main\.js" "\$@"/);
  assert.ok(existsSync('src/ros/main.ts'), 'dist/ros/main.js is built from src/ros/main.ts');
});

test('launch files: `bridge` (XML) and bridge.launch.py set every node parameter', () => {
  const names = Object.keys(defaultParams()).sort();
  const xml = read('launch/bridge');
  assert.match(xml, /<node pkg="partrm" exec="bridge" name="partrm_bridge"/);
  const args = [...xml.matchAll(/<arg name="(\w+)"/g)].map((m) => m[1]).sort();
  const params = [...xml.matchAll(/<param name="(\w+)" value="\$\(var (\w+)\)"/g)].map((m) => (assert.equal(m[1], m[2]), m[1])).sort();
  assert.deepEqual(args, names);
  assert.deepEqual(params, names);
  const py = read('launch/bridge.launch.py');
  const pyArgs = [...py.matchAll(/^\s+\('(\w+)', '/gm)].map((m) => m[1]).sort();
  assert.deepEqual(pyArgs, names);
  // Same defaults in both files and in the node.
  const d = defaultParams() as unknown as Record<string, string | number>;
  for (const n of names) {
    assert.match(xml, new RegExp(`<arg name="${n}" default="${String(n === 'web_port' ? 8080 : d[n])}"`), `XML default of ${n}`);
    assert.match(py, new RegExp(`\\('${n}', '${String(n === 'web_port' ? 8080 : d[n])}'`), `Python default of ${n}`);
  }
  const python = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read()); import xml.dom.minidom as m; m.parse(sys.argv[2]); m.parse(sys.argv[3])', 'launch/bridge.launch.py', 'launch/bridge', 'ros/package.xml'], { encoding: 'utf8' });
  if (python.error === undefined) assert.equal(python.status, 0, python.stderr);
});
