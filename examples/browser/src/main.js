// The page: it talks to the model's worker (src/worker.js), draws the training chart with uPlot,
// projects the item embeddings by PCA, and keeps model files in IndexedDB.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { pca2 } from './pca.js';
import { describeReason } from 'twotower';

const $ = (id) => document.getElementById(id);
const isolated = globalThis.crossOriginIsolated === true;

// ---- the worker, as a promise per request ----
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;
function ask(type, args = {}, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, type, ...args }, transfer);
  });
}
worker.onmessage = ({ data }) => {
  if (data.type === 'ready') return ready();
  if (data.type === 'epoch') return onEpoch(data.info);
  if (data.type === 'batch') return onBatch(data);
  const waiting = pending.get(data.id);
  pending.delete(data.id);
  if (data.error) waiting.reject(Object.assign(new Error(data.error.message), { code: data.error.code }));
  else waiting.resolve(data.result);
};
worker.onerror = (event) => fail($('status'), `the model worker could not start: ${event.message ?? 'unknown error'}`);

function ready() {
  $('status').textContent = isolated
    ? 'Ready. This page is cross-origin isolated: training and scoring can use 2 threads.'
    : 'Ready. This page is not cross-origin isolated (no COOP/COEP headers): one thread, and Stop cannot interrupt training.';
  if (!isolated) $('threads').value = '1';
}

function fail(where, message) {
  where.textContent = message;
  where.classList.add('error');
}

/** Runs `run` with `controls` (an element or several) disabled, showing an error in the status line. */
function busy(controls, run) {
  const list = [controls].flat();
  return async (...args) => {
    for (const c of list) c.disabled = true;
    try {
      await run(...args);
    } catch (error) {
      console.warn(error);
      fail($('status'), `${error.code ? error.code + ': ' : ''}${error.message}`);
    } finally {
      for (const c of list) c.disabled = false;
    }
  };
}

// ---- 1. data ----
function showData(d) {
  $('status').classList.remove('error');
  $('data-summary').textContent =
    `${d.source}: ${d.events.toLocaleString()} events, ${d.users} users, ${d.items} items` +
    (d.test ? `; ${d.test.toLocaleString()} held out for testing (${d.heldOut})` : '') +
    (d.delimiter
      ? ` (delimiter ${JSON.stringify(d.delimiter)}, ${d.header ? 'header ' + d.header.join(', ') : 'no header'}, ${d.hasRatings ? 'ratings' : 'an event log: a retrieval model'})`
      : '') +
    (d.notes?.length ? `. ${d.notes.join('; ')}` : '');
  $('train').disabled = false;
}
$('synthetic').onclick = busy($('synthetic'), async () => {
  $('columns').hidden = true;
  showData(await ask('synthetic'));
});
async function readFiles(list) {
  const files = [...list];
  $('data-summary').textContent = `reading ${files.map((f) => f.name).join(', ')}…`;
  // MovieLens's u.item (titles) is Latin-1; everything else is read as UTF-8.
  const read = async (f) =>
    /(^|[\\/])u\.item$/i.test(f.name) ? new TextDecoder('latin1').decode(await f.arrayBuffer()) : f.text();
  dataRead(await ask('text', { files: await Promise.all(files.map(async (f) => ({ name: f.name, text: await read(f) }))) }));
}

// Which field holds what: the worker reads the files by the names it knows (user, item,
// rating, time …); where it does not know them, or to change what it chose, pick them here.
const ROLES = ['user', 'item', 'rating', 'time'];
const pickers = ROLES.map((role) => $(`col-${role}`));
let hasHeader = false;
/** The worker's answer to reading files: the data, or (columns not recognised) the file's layout to pick from. */
function dataRead(result) {
  if (result.pick) {
    const { name, header } = result.pick;
    $('train').disabled = true;
    $('data-summary').textContent =
      `${name}: which column is which? ` +
      (header ? `The header (${header.join(', ')}) names no user or item column I know` : 'The columns were not recognised') +
      ': pick them below, then train.';
    showColumns(result.pick, {});
  } else {
    showData(result);
    showColumns(result.layout, result.columns);
  }
}
/** Fills the column pickers from a file's layout (header names, or column numbers, with the first line's values). */
function showColumns(layout, chosen) {
  hasHeader = layout.header !== null;
  $('columns').hidden = false;
  for (const [r, select] of pickers.entries()) {
    const none = r < 2 ? '— pick a column —' : '— none —';
    const fields = Array.from({ length: layout.count }, (_, i) => {
      const name = layout.header ? layout.header[i] : `column ${i + 1}`;
      return new Option(layout.sample[i] !== undefined ? `${name} (e.g. ${layout.sample[i]})` : name, String(i));
    });
    select.replaceChildren(new Option(none, ''), ...fields);
    select.value = chosen[ROLES[r]] !== undefined ? String(chosen[ROLES[r]]) : '';
  }
}
/** A column picked: read the files again with these columns once user and item are chosen, each field once. */
async function columnsPicked() {
  const fields = {};
  for (const [r, select] of pickers.entries()) if (select.value !== '') fields[ROLES[r]] = Number(select.value);
  const picked = Object.values(fields);
  const problem =
    fields.user === undefined || fields.item === undefined
      ? 'Pick the user and the item columns.'
      : new Set(picked).size < picked.length
        ? 'Pick a different column for each.'
        : undefined;
  if (problem) {
    $('train').disabled = true;
    $('data-summary').textContent = problem;
    return;
  }
  dataRead(await ask('columns', { columns: { fields, header: hasHeader } }));
}
for (const select of pickers) select.onchange = busy(pickers, columnsPicked);
$('file').onchange = busy($('synthetic'), () => readFiles($('file').files));
const drop = $('drop');
drop.ondragover = (event) => (event.preventDefault(), drop.classList.add('over'));
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = busy($('synthetic'), async (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  if (event.dataTransfer.files.length) await readFiles(event.dataTransfer.files);
});

// ---- 2. training ----
let chart = null;
const points = { x: [], loss: [], refit: [], validation: [] };
let metricName = 'validation';
function resetChart() {
  points.x.length = points.loss.length = points.refit.length = points.validation.length = 0;
  $('chart').dataset.points = '0';
  chart?.destroy();
  chart = new uPlot(
    {
      width: 640,
      height: 260,
      scales: { x: { time: false } },
      axes: [
        { label: 'epoch' },
        { label: 'training loss' },
        { side: 1, scale: 'metric', label: metricName, grid: { show: false } },
      ],
      series: [
        {},
        { label: 'training loss (search, 90%)', stroke: '#2457c5', width: 2 },
        { label: 'training loss (refit, all)', stroke: '#1f9d6a', width: 2 },
        { label: metricName, stroke: '#d2691e', width: 2, scale: 'metric' },
      ],
    },
    [points.x, points.loss, points.refit, points.validation],
    $('chart'),
  );
}
function onEpoch(info) {
  const metric = info.validationRecall ?? info.validationRmse ?? null;
  if (points.x.length === 0 && info.validationRecall !== undefined && metricName !== 'validation Recall@20') {
    metricName = 'validation Recall@20';
    resetChart();
  }
  points.x.push(points.x.length + 1);
  // Phase 1 searches the epoch count on 90% of the data, scored on the other 10%; phase 2
  // retrains on all of it for that many epochs (no validation there): two loss lines.
  points.loss.push(info.phase === 1 ? info.loss : null);
  points.refit.push(info.phase === 2 ? info.loss : null);
  points.validation.push(metric);
  chart.setData([points.x, points.loss, points.refit, points.validation]);
  $('chart').dataset.points = String(points.x.length);
  globalThis.__epochs = (globalThis.__epochs ?? 0) + 1; // epochs reported by the worker (the page's test compares)
  $('progress-label').textContent =
    `${info.phase === 1 ? 'searching' : 'final refit'}: epoch ${info.epoch + 1}/${info.epochs}, loss ${info.loss.toFixed(4)}` +
    (metric !== null ? `, ${metricName} ${metric.toFixed(4)}` : '');
}
function onBatch({ batch, batches }) {
  $('progress').value = (batch + 1) / batches;
}

let stopFlag = null;
$('train').onclick = busy($('train'), async () => {
  metricName = 'validation RMSE';
  globalThis.__epochs = 0;
  resetChart();
  $('train-summary').textContent = '';
  $('store-status').textContent = '';
  stopFlag = isolated ? new Int32Array(new SharedArrayBuffer(4)) : null;
  $('stop').disabled = !stopFlag;
  const started = performance.now();
  try {
    const s = await ask('train', {
      epochs: Number($('epochs').value),
      threads: Number($('threads').value),
      stop: stopFlag?.buffer,
    });
    const t = s.test;
    $('train-summary').textContent =
      `Trained in ${((performance.now() - started) / 1000).toFixed(1)} s: ${s.users} users, ${s.items} items, dim ${s.dim}, ` +
      `${s.loss} loss, ${s.kernels} kernels, ${s.threads} thread${s.threads === 1 ? '' : 's'}` +
      (t
        ? `. Test ${t.metric} ${t.value.toFixed(4)} on ${t.events.toLocaleString()} held-out events` +
          (t.users ? ` (${t.users.toLocaleString()} users)` : '') +
          (t.skipped ? `, ${t.skipped.toLocaleString()} with an id not in training left out` : '') +
          (s.floorRmse !== undefined ? ` (the noise floor: ${s.floorRmse.toFixed(4)})` : '')
        : '') +
      (stopFlag && Atomics.load(stopFlag, 0) ? '. Stopped: the best epoch so far was kept.' : '.');
    $('train-summary').dataset.testMetric = t?.metric ?? '';
    $('train-summary').dataset.testValue = t ? String(t.value) : '';
    $('train-summary').dataset.threads = String(s.threads);
    await modelReady(s);
  } finally {
    $('stop').disabled = true;
  }
});
$('stop').onclick = () => stopFlag && Atomics.store(stopFlag, 0, 1);

/** Clears what the previous model showed. */
function forgetResults() {
  for (const id of ['recs', 'similar', 'history-recs', 'taste-matches', 'taste-mine', 'taste-recs']) $(id).replaceChildren();
  $('speed-out').textContent = '';
  delete $('speed-out').dataset.threads;
  $('map-tip').hidden = true;
  highlighted = new Set();
}

async function modelReady(summary) {
  forgetResults();
  for (const id of ['recommend', 'from-history', 'speed', 'download', 'idb-save']) $(id).disabled = false;
  const users = await ask('users', { limit: 500 });
  $('user-list').replaceChildren(...users.map((u) => new Option(u)));
  if (!$('user').value || !users.includes($('user').value)) $('user').value = users[0] ?? '';
  await drawMap();
  await tasteReady(summary.bundle);
}

// ---- 3. the item map ----
let map = null; // { ids, xy (canvas pixels) }
let highlighted = new Set();
async function drawMap() {
  const { ids, vectors, dim } = await ask('embeddings');
  const xy = pca2(vectors, ids.length, dim);
  const canvas = $('map');
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < ids.length; i++) {
    minX = Math.min(minX, xy[2 * i]);
    maxX = Math.max(maxX, xy[2 * i]);
    minY = Math.min(minY, xy[2 * i + 1]);
    maxY = Math.max(maxY, xy[2 * i + 1]);
  }
  const pad = 14;
  const px = new Float64Array(2 * ids.length);
  for (let i = 0; i < ids.length; i++) {
    px[2 * i] = pad + ((xy[2 * i] - minX) / (maxX - minX || 1)) * (canvas.width - 2 * pad);
    px[2 * i + 1] = canvas.height - pad - ((xy[2 * i + 1] - minY) / (maxY - minY || 1)) * (canvas.height - 2 * pad);
  }
  map = { ids, px };
  $('item-list').replaceChildren(...ids.slice(0, 1000).map((id) => new Option(id)));
  paintMap();
}
function paintMap() {
  const canvas = $('map');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < map.ids.length; i++) {
    const on = highlighted.has(map.ids[i]);
    g.fillStyle = on ? '#d2691e' : 'rgba(36, 87, 197, 0.55)';
    g.beginPath();
    g.arc(map.px[2 * i], map.px[2 * i + 1], on ? 5 : 3, 0, 2 * Math.PI);
    g.fill();
  }
}
function nearestPoint(event) {
  if (!map) return -1;
  const rect = $('map').getBoundingClientRect();
  const x = event.clientX - rect.left,
    y = event.clientY - rect.top;
  let best = -1,
    bestD = 64; // within 8 px
  for (let i = 0; i < map.ids.length; i++) {
    const d = (map.px[2 * i] - x) ** 2 + (map.px[2 * i + 1] - y) ** 2;
    if (d < bestD) {
      best = i;
      bestD = d;
    }
  }
  return best;
}
$('map').onmousemove = (event) => {
  const i = nearestPoint(event);
  const tip = $('map-tip');
  tip.hidden = i < 0;
  if (i >= 0) {
    tip.textContent = map.ids[i];
    tip.style.left = `${map.px[2 * i] + 8}px`;
    tip.style.top = `${map.px[2 * i + 1] - 24}px`;
  }
};
$('map').onclick = async (event) => {
  const i = nearestPoint(event);
  if (i < 0) return;
  const similar = await ask('similar', { item: map.ids[i], k: 10 });
  highlighted = new Set([map.ids[i], ...similar.map((s) => s.id)]);
  paintMap();
  $('similar').replaceChildren(...similar.map((s) => listItem(s.id, `cosine ${s.score.toFixed(3)}`, `like ${map.ids[i]}`)));
};

// ---- 4. recommend and explain ----
function listItem(item, score, why, numbers, label) {
  const li = document.createElement('li');
  li.dataset.item = item;
  li.innerHTML = `<b></b> <span class="score"></span> <span class="why"></span>`;
  li.children[0].textContent = label ? `${item} ${label}` : item;
  li.children[1].textContent = score;
  li.children[2].textContent = why ?? '';
  // The exact shares behind the words, for whoever hovers (data scientists).
  if (numbers) li.children[2].title = numbers;
  return li;
}
$('recommend').onclick = busy($('recommend'), async () => {
  const recs = await ask('recommend', { user: $('user').value.trim(), k: 10 });
  $('recs').replaceChildren(
    ...recs.map((r) =>
      listItem(
        r.id,
        r.score.toFixed(3),
        r.words?.length ? r.words.join('; ') : '—',
        r.reasons?.map(describeReason).join('; '),
        r.label,
      ),
    ),
  );
  highlighted = new Set(recs.map((r) => r.id));
  paintMap();
});
$('from-history').onclick = busy($('from-history'), async () => {
  const items = $('history')
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const recs = await ask('fromHistory', { items, k: 10 });
  $('history-recs').replaceChildren(...recs.map((r) => listItem(r.id, r.score.toFixed(3))));
});

// ---- 5. your taste: personalised in the worker, on the model's serving bundle ----
let catalogue = []; // [{ id, label }]
let picked = []; // item ids, in the order picked
let bundleNote = '';
let asked = 0; // the latest taste request: older answers are dropped
const titleOf = (x) => x.label ?? x.id;

async function tasteReady(bundle) {
  catalogue = await ask('catalogue');
  picked = [];
  bundleNote = `Serving bundle: ${(bundle.bytes / 1024).toFixed(0)} KB, loaded in ${bundle.loadMs.toFixed(1)} ms.`;
  $('taste-search').disabled = false;
  $('taste-status').textContent = `${bundleNote} Pick items you like.`;
  $('taste-status').dataset.bundleMs = String(bundle.loadMs);
  // A handle kept in this browser for this model comes back with its picks.
  const bytes = await store('readonly', (s) => s.get('taste'));
  const restored = bytes ? await ask('restoreTaste', { bytes }) : null;
  if (restored?.length) {
    picked = restored.filter((id) => catalogue.some((x) => x.id === id));
    await tasteChanged(false);
  }
  showMatches();
  showPicked();
}

function chip(text, title, onclick) {
  const li = document.createElement('li');
  const button = document.createElement('button');
  button.textContent = text;
  button.title = title;
  button.onclick = onclick;
  li.append(button);
  return li;
}

/** Up to 12 titles (or ids) containing the search text, picked ones left out. */
function showMatches() {
  const q = $('taste-search').value.trim().toLowerCase();
  const mine = new Set(picked);
  const found = catalogue
    .filter((x) => !mine.has(x.id) && (titleOf(x).toLowerCase().includes(q) || String(x.id).toLowerCase().includes(q)))
    .slice(0, 12);
  $('taste-matches').replaceChildren(...found.map((x) => chip(titleOf(x), `add ${x.id} to your items`, () => pick(x.id))));
}
function showPicked() {
  const byId = new Map(catalogue.map((x) => [x.id, x]));
  $('taste-mine').replaceChildren(...picked.map((id) => chip(titleOf(byId.get(id) ?? { id }), `remove ${id}`, () => unpick(id))));
  $('taste-empty').hidden = picked.length > 0;
}
function pick(id) {
  if (!picked.includes(id)) picked.push(id);
  return tasteChanged();
}
function unpick(id) {
  picked = picked.filter((x) => x !== id);
  return tasteChanged();
}
$('taste-search').oninput = () => showMatches();

/** The picks changed: personalise again in the worker, show the top 10 with their words, keep the handle. */
async function tasteChanged(keep = true) {
  showPicked();
  showMatches();
  const mine = ++asked;
  try {
    const t = await ask('taste', { items: picked, k: 10 });
    if (mine !== asked) return;
    $('taste-recs').replaceChildren(
      ...t.recs.map((r) => {
        const li = listItem(r.id, r.score.toFixed(2), r.words.length ? r.words.join(' · ') : '—', undefined, r.label);
        li.children[0].textContent = r.label ?? r.id;
        li.title = `add ${r.id} to your items`;
        li.onclick = () => pick(r.id);
        return li;
      }),
    );
    $('taste-status').textContent = picked.length
      ? `${bundleNote} Personalised from ${picked.length} item${picked.length === 1 ? '' : 's'} (${t.mode}) and ranked in ` +
        `${t.ms.toFixed(1)} ms, reasons in ${t.wordsMs.toFixed(1)} ms, on this device.`
      : `${bundleNote} Pick items you like.`;
    $('taste-status').dataset.ms = String(t.ms);
    if (keep) {
      const bytes = await ask('tasteBytes');
      await store('readwrite', (s) => (bytes ? s.put(bytes, 'taste') : s.delete('taste')));
    }
  } catch (error) {
    console.warn(error);
    fail($('taste-status'), `${error.code ? error.code + ': ' : ''}${error.message}`);
  }
}
// For the page's test and the bench: personalise + recommend timings (see the worker's tasteBench).
globalThis.__tasteBench = (options) => ask('tasteBench', options);

// ---- 6. speed ----
$('speed').onclick = busy($('speed'), async () => {
  $('speed-out').textContent = 'measuring…';
  const s = await ask('speed');
  $('speed-out').textContent =
    `${s.items.toLocaleString()} items, ${s.threads} thread${s.threads === 1 ? '' : 's'}, ${s.kernels} kernels: ` +
    `${s.single.toFixed(3)} ms for one user's top 10, ${s.batched.toFixed(3)} ms per user in batches of 64`;
  $('speed-out').dataset.threads = String(s.threads);
});

// ---- 7. save and load ----
$('download').onclick = busy($('download'), async () => {
  const bytes = await ask('save');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  a.download = 'model.ttm';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  $('store-status').textContent = `model.ttm: ${bytes.length.toLocaleString()} bytes`;
});
async function loaded(s, from) {
  $('store-status').textContent = `Loaded from ${from}: ${s.users} users, ${s.items} items, dim ${s.dim}.`;
  await modelReady(s);
}
$('upload').onchange = busy($('download'), async () => {
  const bytes = new Uint8Array(await $('upload').files[0].arrayBuffer());
  await loaded(await ask('load', { bytes }, [bytes.buffer]), $('upload').files[0].name);
});

// IndexedDB: one object store, one record ('model') holding the file's bytes.
function database() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('twotower-example', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('models');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}
async function store(mode, run) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const request = run(db.transaction('models', mode).objectStore('models'));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}
$('idb-save').onclick = busy($('idb-save'), async () => {
  const bytes = await ask('save');
  await store('readwrite', (s) => s.put(bytes, 'model'));
  $('store-status').textContent = `Saved in this browser (IndexedDB): ${bytes.length.toLocaleString()} bytes.`;
});
$('idb-load').onclick = busy($('idb-load'), async () => {
  const bytes = await store('readonly', (s) => s.get('model'));
  if (!bytes) return void ($('store-status').textContent = 'No model saved in this browser yet.');
  await loaded(await ask('load', { bytes }, [bytes.buffer]), 'this browser (IndexedDB)');
});

resetChart();
