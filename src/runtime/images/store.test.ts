import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ImageStore } from './store.js';
import { NodeImageService } from './image-service.js';
import { busyboxArchive, makeDockerArchive } from './testing.js';
import { mountOverlay, copyLayers, unmount } from './layers.js';
import type { PullProgress } from '../types.js';

const execFileP = promisify(execFile);
let dir: string;
before(async () => { dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'navarch-store-')); });
after(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

test('imports the busybox docker-archive; a second import skips present layers', async () => {
  const store = new ImageStore(path.join(dir, 'store1'));
  const archive = await busyboxArchive();
  const progress: PullProgress[] = [];
  const refs = await store.importArchive(archive, (p) => progress.push(p));
  assert.deepEqual(refs, ['docker.io/library/busybox:latest']);
  assert.ok(progress.some((p) => p.bytesDone === p.bytesTotal && p.bytesTotal > 0), 'byte progress reported');
  assert.ok(progress.some((p) => p.layersDone === 1 && p.layersTotal === 1), 'layer progress reported');
  const img = await store.status('busybox');
  assert.ok(img);
  assert.deepEqual(img.repoTags, ['docker.io/library/busybox:latest']);
  assert.deepEqual(img.spec?.Cmd, ['sh']);
  assert.equal((await store.status(img.id))?.id, img.id, 'found by id');
  const { layers } = await store.rootfsOf('busybox:latest');
  assert.ok(fs.existsSync(path.join(layers[0].fsDir, 'bin/busybox')));
  assert.equal(fs.readlinkSync(path.join(layers[0].fsDir, 'bin/sh')), '/bin/busybox');
  const before = fs.statSync(layers[0].fsDir).ino;
  const again: PullProgress[] = [];
  await store.importArchive(archive, (p) => again.push(p));
  assert.ok(again.some((p) => /already present/.test(p.status)));
  assert.equal(fs.statSync(layers[0].fsDir).ino, before, 'the unpacked layer was not redone');
  assert.equal((await store.list()).length, 1);
});

test('imports an OCI archive (converted by skopeo)', async () => {
  const store = new ImageStore(path.join(dir, 'store2'));
  const oci = path.join(dir, 'busybox-oci.tar');
  await execFileP('skopeo', ['copy', '-q', `docker-archive:${await busyboxArchive()}`, `oci-archive:${oci}:docker.io/library/busybox:oci`]);
  const refs = await store.importArchive(oci);
  assert.deepEqual(refs, ['docker.io/library/busybox:oci']);
  assert.ok((await store.status('busybox:oci'))?.repoDigests[0]?.startsWith('docker.io/library/busybox@sha256:'));
});

test('whiteouts and opaque directories: overlay and copy fallback agree; shared layers are refcounted', async () => {
  const store = new ImageStore(path.join(dir, 'store3'));
  const base = { files: { 'a/x': 'x', 'a/y': 'y', 'b/z': 'z', 'keep': 'k' } };
  const a1 = path.join(dir, 'a1.tar');
  const a2 = path.join(dir, 'a2.tar');
  await makeDockerArchive(a1, 'example.com/wh:v1', [base, { whiteouts: ['a/x'], opaque: ['b'], files: { 'b/new': 'n' } }]);
  await makeDockerArchive(a2, 'example.com/other:v1', [base, { files: { 'other': 'o' } }]);
  await store.importArchive(a1);
  await store.importArchive(a2);
  const wh = await store.rootfsOf('example.com/wh:v1');
  const baseDiff = wh.layers[0].diffId;
  assert.equal(store.layerRefCount(baseDiff), 2, 'base layer shared by both images');
  const expectView = async (root: string) => {
    assert.equal(fs.existsSync(path.join(root, 'a/x')), false, 'whiteout hides a/x');
    assert.equal(await fsp.readFile(path.join(root, 'a/y'), 'utf8'), 'y');
    assert.deepEqual((await fsp.readdir(path.join(root, 'b'))).sort(), ['new'], 'opaque b hides z');
    assert.equal(await fsp.readFile(path.join(root, 'keep'), 'utf8'), 'k');
  };
  const copy = path.join(dir, 'copy');
  await copyLayers(wh.layers, copy);
  await expectView(copy);
  if (process.getuid?.() === 0) {
    const m = path.join(dir, 'merged');
    await mountOverlay(wh.layers.map((l) => l.fsDir), path.join(dir, 'upper'), path.join(dir, 'work'), m);
    try { await expectView(m); } finally { await unmount(m); }
  }
  await store.remove('example.com/wh:v1');
  assert.equal(await store.status('example.com/wh:v1'), null);
  assert.equal(store.layerRefCount(baseDiff), 1);
  assert.ok(fs.existsSync(path.join(store.layerDir(baseDiff), 'fs/keep')), 'shared layer kept');
  assert.equal(fs.existsSync(store.layerDir(wh.layers[1].diffId)), false, 'unshared layer removed');
  await store.remove('example.com/other:v1');
  assert.equal(fs.existsSync(store.layerDir(baseDiff)), false);
  assert.deepEqual(await fsp.readdir(path.join(store.root, 'blobs/sha256')), []);
});

test('the drop folder imports new tarballs once', async () => {
  const drop = path.join(dir, 'drop');
  await fsp.mkdir(drop);
  await fsp.copyFile(await busyboxArchive(), path.join(drop, 'busybox.tar'));
  await fsp.writeFile(path.join(drop, 'notes.txt'), 'ignored');
  const svc = new NodeImageService({ root: path.join(dir, 'store4') });
  assert.deepEqual(await svc.importDirectory(drop), ['docker.io/library/busybox:latest']);
  assert.deepEqual(await svc.importDirectory(drop), [], 'nothing new the second time');
  assert.equal((await svc.listImages()).length, 1);
});
