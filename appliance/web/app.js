// The installer page: camera list, camera form, anonymized snapshot with a drawing overlay for
// counting lines, zones and calibration points. Plain ES module, no build step, no network but the box.
// Geometry is kept in relative coordinates (0..1), as the config stores it; calibration points are
// sent in pixels of the snapshot they were picked on.

const API = '/api/v1';
const POLL_MS = 3000;
const SNAPSHOT_RETRY_MS = 3000;
const CLOSE_ZONE_PX = 12;

// Every 401 carries a Basic challenge, which the browser answers with the credentials it already
// holds for this realm (the installer logged in on /ui/), so API calls need no token handling here.
const ACCEPT_JSON = 'application/json';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const el = {
  connection: $('connection'),
  addCamera: /** @type {HTMLButtonElement} */ ($('add-camera')),
  cameraRows: /** @type {HTMLTableSectionElement} */ (document.querySelector('#camera-table tbody')),
  camerasEmpty: $('cameras-empty'),
  editor: $('editor'),
  welcome: $('welcome'),
  editorHeading: $('editor-heading'),
  cameraState: $('camera-state'),
  form: /** @type {HTMLFormElement} */ ($('camera-form')),
  id: /** @type {HTMLInputElement} */ ($('cam-id')),
  name: /** @type {HTMLInputElement} */ ($('cam-name')),
  url: /** @type {HTMLInputElement} */ ($('cam-url')),
  fps: /** @type {HTMLInputElement} */ ($('cam-fps')),
  width: /** @type {HTMLInputElement} */ ($('cam-width')),
  height: /** @type {HTMLInputElement} */ ($('cam-height')),
  enabled: /** @type {HTMLInputElement} */ ($('cam-enabled')),
  tools: /** @type {HTMLButtonElement[]} */ ([...document.querySelectorAll('[data-tool]')]),
  closeZone: /** @type {HTMLButtonElement} */ ($('close-zone')),
  cancelDrawing: /** @type {HTMLButtonElement} */ ($('cancel-drawing')),
  refreshSnapshot: /** @type {HTMLButtonElement} */ ($('refresh-snapshot')),
  hint: $('hint'),
  stage: $('stage'),
  img: /** @type {HTMLImageElement} */ ($('snapshot')),
  canvas: /** @type {HTMLCanvasElement} */ ($('overlay')),
  snapshotStatus: $('snapshot-status'),
  lineRows: /** @type {HTMLTableSectionElement} */ (document.querySelector('#lines-table tbody')),
  linesEmpty: $('lines-empty'),
  zoneRows: /** @type {HTMLTableSectionElement} */ (document.querySelector('#zones-table tbody')),
  stopLineRows: /** @type {HTMLTableSectionElement} */ (document.querySelector('#stoplines-table tbody')),
  stopLinesEmpty: $('stoplines-empty'),
  zonesEmpty: $('zones-empty'),
  laneRows: /** @type {HTMLTableSectionElement} */ (document.querySelector('#lanes-table tbody')),
  lanesEmpty: $('lanes-empty'),
  laneInterval: /** @type {HTMLSelectElement} */ ($('lane-interval')),
  calRows: /** @type {HTMLTableSectionElement} */ (document.querySelector('#cal-table tbody')),
  calStatus: $('calibration-status'),
  save: /** @type {HTMLButtonElement} */ ($('save')),
  revert: /** @type {HTMLButtonElement} */ ($('revert')),
  saveStatus: $('save-status'),
  errors: $('errors'),
  errorsHeading: $('errors-heading'),
  errorsSummary: $('errors-summary'),
  errorsList: $('errors-list'),
  live: $('live'),
  healthSummary: $('health-summary'),
  healthChecks: $('health-checks'),
  healthMoved: $('health-moved'),
  healthReference: /** @type {HTMLImageElement} */ ($('health-reference')),
  healthCurrent: /** @type {HTMLImageElement} */ ($('health-current')),
  healthImagesStatus: $('health-images-status'),
  healthConfirm: /** @type {HTMLButtonElement} */ ($('health-confirm')),
};

/**
 * @typedef {{x:number,y:number}} Pt
 * @typedef {{ rel: Pt, ground: {x:string,y:string} }} CalPoint
 */
const state = {
  /** @type {any[]} */ cameras: [],
  /** The camera being edited: `config` is the working copy, `saved` what the server holds. */
  /** @type {{ id: string|null, isNew: boolean, config: any, saved: any } | null} */ current: null,
  /** @type {CalPoint[]} */ calPoints: [],
  calDirty: false,
  /** @type {any} */ lastCalibration: null,
  /** @type {'line'|'zone'|'cal'|'lane'|'stop'|'trafficlane'|'loop'|null} */ tool: null,
  /** @type {Pt[]} */ pending: [],
  /** @type {number|null} */ laneFor: null,
  /** @type {Pt|null} */ hover: null,
  /** @type {{width:number,height:number}|null} */ snapshotSize: null,
  /** @type {string|null} */ snapshotUrl: null,
  /** @type {ReturnType<typeof setTimeout>|undefined} */ snapshotTimer: undefined,
  /** Issue paths (camera-relative, e.g. /lines/1) the server refused: drawn and marked red. */
  /** @type {string[]} */ invalid: [],
  busy: false,
  /** Camera whose moved-view images are shown (loaded once per move), and their blob URLs. */
  /** @type {string|null} */ healthImagesFor: null,
  /** @type {string[]} */ healthUrls: [],
};

// ---------------------------------------------------------------- API

/** @returns {Promise<{ok:boolean,status:number,data:any}>} */
async function api(method, path, body) {
  /** @type {Record<string,string>} */
  const headers = { accept: ACCEPT_JSON };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(API + path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    return { ok: false, status: 0, data: { error: `cannot reach the appliance (${err instanceof Error ? err.message : err})` } };
  }
  let data = null;
  if ((res.headers.get('content-type') ?? '').includes('json')) data = await res.json().catch(() => null);
  if (!res.ok && !data) data = { error: `HTTP ${res.status} ${res.statusText}` };
  return { ok: res.ok, status: res.status, data };
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------- small helpers

const round = (v, digits) => Math.round(v * 10 ** digits) / 10 ** digits;
const clamp01 = (v) => Math.min(1, Math.max(0, v));
const fmt = (v, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const fmtPt = (p) => `(${fmt(p.x)}, ${fmt(p.y)})`;

/** @param {string} tag @param {Record<string, any>} [props] @param {(Node|string)[]} [children] */
function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k in node && typeof v !== 'string') /** @type {any} */ (node)[k] = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) node.append(c);
  return node;
}

/** Left normal of from→to on screen (y down): the config's default 'forward' side. */
const leftNormal = (line) => ({ x: line.to.y - line.from.y, y: -(line.to.x - line.from.x) });
const forwardOf = (line) => line.direction ?? leftNormal(line);

/** The next free id like line-3 among `items`. */
function nextId(prefix, items) {
  const used = new Set(items.map((i) => i.id));
  for (let n = 1; ; n++) if (!used.has(`${prefix}-${n}`)) return `${prefix}-${n}`;
}

/** Pixel size calibration points refer to: the snapshot's, else the configured frame size. */
function imageSize() {
  if (state.snapshotSize) return state.snapshotSize;
  const c = state.current?.config;
  return { width: Number(c?.width) || 640, height: Number(c?.height) || 360 };
}
const calPixel = (p) => {
  const s = imageSize();
  return { x: round(p.rel.x * s.width, 1), y: round(p.rel.y * s.height, 1) };
};

// ---------------------------------------------------------------- camera list

async function pollCameras() {
  const r = await api('GET', '/cameras');
  if (r.ok) {
    state.cameras = r.data.cameras;
    el.connection.textContent = `Connected · ${state.cameras.length} camera${state.cameras.length === 1 ? '' : 's'} · ${new Date().toLocaleTimeString()}`;
    el.connection.className = 'connection ok';
    renderCameraList();
  } else {
    el.connection.textContent = r.status === 401 ? 'Not logged in: reload the page and enter the installer token.' : `Appliance unreachable: ${r.data?.error ?? r.status}`;
    el.connection.className = 'connection bad';
  }
  if (state.current && !state.current.isNew) await pollLive();
}

function renderCameraList() {
  const focusedId = /** @type {HTMLElement|null} */ (document.activeElement)?.closest?.('tr')?.getAttribute('data-id') ?? null;
  el.cameraRows.replaceChildren(
    ...state.cameras.map((c) => {
      const open = h('button', { type: 'button', class: 'camera-link', 'aria-label': `Open camera ${c.id}`, onclick: () => openCamera(c.id) }, [
        h('span', { class: 'camera-name', text: c.name || c.id }),
        h('span', { class: 'camera-id', text: c.name ? c.id : '' }),
      ]);
      return h('tr', { 'data-id': c.id, class: state.current?.id === c.id ? 'selected' : '' }, [
        h('th', { scope: 'row' }, [
          open,
          h('div', { class: 'small muted url', text: c.url, title: c.url }),
          h('div', { class: `cal ${c.calibrated ? 'yes' : 'muted'}`, text: c.calibrated ? 'calibrated' : 'not calibrated' }),
        ]),
        h('td', {}, [h('span', { class: `badge state-${c.state}`, text: c.state }), h('div', { class: 'small muted', text: c.reason, title: c.reason })]),
        h('td', {}, [healthBadge(c.health)]),
        h('td', { class: 'num', text: fmt(c.fps, 1) }),
      ]);
    }),
  );
  el.camerasEmpty.hidden = state.cameras.length > 0;
  if (focusedId) /** @type {HTMLElement|null} */ (el.cameraRows.querySelector(`tr[data-id="${CSS.escape(focusedId)}"] button`))?.focus();
  renderCameraState();
}

function renderCameraState() {
  const cur = state.current;
  if (!cur || cur.isNew) {
    el.cameraState.textContent = cur?.isNew ? 'new camera, not saved yet' : '';
    return;
  }
  const c = state.cameras.find((x) => x.id === cur.id);
  el.cameraState.replaceChildren();
  if (!c) return;
  el.cameraState.append(h('span', { class: `badge state-${c.state}`, text: c.state }), ` ${c.reason} · ${fmt(c.fps, 1)} fps · ${c.framesAnalysed} frames analysed`);
  el.calStatus.textContent = calibrationText(c);
  renderHealth(c);
}

// ---------------------------------------------------------------- picture health

const CHECK_NAMES = { frozen: 'Frozen picture', covered: 'Lens covered', defocused: 'Out of focus', moved: 'Camera moved', dark: 'Too dark', overexposed: 'Overexposed' };

/** A short badge for the camera list: "ok", "learning", or the open problems. */
function healthBadge(hs) {
  if (!hs || !hs.enabled) return h('span', { class: 'badge muted', text: 'off' });
  const open = (hs.checks ?? []).filter((c) => c.state === 'open').map((c) => c.check);
  if (open.length) return h('span', { class: 'badge health-bad', text: open.join(', '), title: 'counts from this camera are flagged' });
  return h('span', { class: `badge ${hs.reference === 'ready' ? 'health-ok' : 'muted'}`, text: hs.reference === 'ready' ? 'ok' : 'learning' });
}

/** One line per measure, numbers only (the API never sends pixels). */
function measureText(check, m) {
  if (check === 'moved' && m.shiftPx !== undefined) return `shift ${fmt(m.shiftPx, 1)} px (x ${fmt(m.shiftX, 1)}, y ${fmt(m.shiftY, 1)})`;
  return Object.entries(m ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
}

function renderHealth(c) {
  const hs = c.health;
  if (!hs || !hs.enabled) {
    el.healthSummary.textContent = 'Health checks are off for this camera.';
    el.healthChecks.replaceChildren();
    el.healthMoved.hidden = true;
    return;
  }
  const open = hs.checks.filter((x) => x.state === 'open');
  el.healthSummary.textContent =
    hs.reference === 'learning'
      ? 'Learning the reference view from the next healthy seconds.'
      : open.length
        ? `Problem: ${open.map((x) => CHECK_NAMES[x.check] ?? x.check).join(', ')}. Counts are flagged (${hs.flags.join(', ')}).`
        : `Picture OK (reference from ${new Date(hs.referenceTakenAt).toLocaleString()}).`;
  el.healthSummary.className = `health-summary ${open.length ? 'warn' : ''}`;
  el.healthChecks.replaceChildren(
    ...hs.checks.map((x) =>
      h('li', { class: `check-${x.state}`, 'data-check': x.check }, [
        h('span', { class: 'check-name', text: CHECK_NAMES[x.check] ?? x.check }),
        h('span', { class: `badge check-${x.state}`, text: x.state }),
        h('span', { class: 'small muted', text: measureText(x.check, x.measures) }),
      ]),
    ),
  );
  el.healthMoved.hidden = !hs.suspect;
  if (hs.suspect && state.healthImagesFor !== c.id) loadHealthImages(c.id);
  if (!hs.suspect && state.healthImagesFor === c.id) clearHealthImages();
}

function clearHealthImages() {
  for (const u of state.healthUrls) URL.revokeObjectURL(u);
  state.healthUrls = [];
  state.healthImagesFor = null;
  el.healthReference.removeAttribute('src');
  el.healthCurrent.removeAttribute('src');
}

/** Anonymized image as a blob URL; the box makes one at a time, so a busy answer is retried. */
async function fetchImage(path) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await fetch(API + path, { headers: { accept: `image/jpeg, ${ACCEPT_JSON}` }, cache: 'no-store', credentials: 'same-origin' });
    if (res.ok) return { url: URL.createObjectURL(await res.blob()) };
    const body = await res.json().catch(() => null);
    if (body?.code !== 'ROADSIDE_ERR_BUSY') return { error: body?.error ?? `HTTP ${res.status}` };
    await new Promise((r) => setTimeout(r, 1200));
  }
  return { error: 'the box stayed busy' };
}

/** The reference and the current view side by side, both anonymized by the box. */
async function loadHealthImages(id) {
  clearHealthImages();
  state.healthImagesFor = id;
  el.healthImagesStatus.textContent = 'Loading the anonymized reference and current views…';
  const ref = await fetchImage(`/cameras/${enc(id)}/health/reference.jpg`);
  const cur = await fetchImage(`/cameras/${enc(id)}/snapshot.jpg`);
  if (state.healthImagesFor !== id) return;
  const problems = [];
  for (const [img, r, what] of [[el.healthReference, ref, 'reference'], [el.healthCurrent, cur, 'current view']]) {
    if (r.url) {
      state.healthUrls.push(r.url);
      img.src = r.url;
    } else problems.push(`${what}: ${r.error}`);
  }
  el.healthImagesStatus.textContent = problems.length ? `Not shown: ${problems.join('; ')}.` : 'Faces and plates are pixelated in both.';
}

async function confirmView() {
  const id = state.current?.id;
  if (!id || state.current?.isNew) return;
  el.healthConfirm.disabled = true;
  const r = await api('POST', `/cameras/${enc(id)}/health/confirm`, {});
  el.healthConfirm.disabled = false;
  el.healthSummary.textContent = r.ok ? 'Confirmed: the reference view is learned again from now.' : `Not confirmed: ${r.data?.error ?? r.status}`;
  if (r.ok) clearHealthImages();
  await pollCameras();
}

function calibrationText(c) {
  const parts = [];
  parts.push(c?.calibrated ? 'Calibrated: speeds are in km/h.' : 'Not calibrated: speeds and distances are not available.');
  const e = state.lastCalibration?.errors;
  if (e) parts.push(`Last fit: RMS error ${fmt(e.rmsM, 2)} m (max ${fmt(e.maxM, 2)} m), ${fmt(e.rmsPx, 1)} px.`);
  return parts.join(' ');
}

async function pollLive() {
  const id = state.current?.id;
  if (!id) return;
  const r = await api('GET', `/cameras/${enc(id)}`);
  if (!r.ok || state.current?.id !== id) return;
  renderLive(r.data.live);
}

function renderLive(live) {
  if (!live) {
    el.live.replaceChildren(h('p', { class: 'muted small', text: 'The camera is not running.' }));
    return;
  }
  const stats = h('dl', { class: 'stats' }, [
    h('dt', { text: 'Tracks in view' }), h('dd', { text: String(live.tracks) }),
    h('dt', { text: 'Mean speed' }), h('dd', { text: live.meanSpeedKmh === null ? '–' : `${live.meanSpeedKmh} km/h` }),
    h('dt', { text: 'Open incidents' }), h('dd', { text: String(live.openIncidents?.length ?? 0) }),
  ]);
  const lines = (live.lines ?? []).map((l) => h('li', { text: `${l.lineId}: ${l.forward} forward, ${l.backward} backward` }));
  const zones = (live.zones ?? []).map((z) => h('li', { text: `${z.zoneId}: ${z.occupancy} inside` }));
  el.live.replaceChildren(stats, h('ul', { class: 'live-list' }, [...lines, ...zones]));
}

// ---------------------------------------------------------------- editor

function newCameraConfig() {
  return { id: '', name: '', url: 'rtsp://', enabled: true, fps: 5, width: 640, height: 360, lines: [], zones: [] };
}

async function openCamera(id) {
  const r = await api('GET', `/cameras/${enc(id)}/config`);
  if (!r.ok) {
    showEditor();
    showErrors(r.data, `Cannot open camera ${id}`);
    return;
  }
  startEditing({ id, isNew: false, config: r.data, saved: structuredClone(r.data) });
  history.replaceState(null, '', `#${enc(id)}`);
  loadSnapshot();
  pollLive();
  loadCalibration(id);
}

/** The points of the calibration in force, so an installer can check or adjust them. */
async function loadCalibration(id) {
  const r = await api('GET', `/cameras/${enc(id)}/calibration`);
  if (!r.ok || state.current?.id !== id || state.calDirty) return;
  const { imageSize: size, points, errors } = r.data;
  state.calPoints = points.map((p) => ({ rel: { x: p.image.x / size.width, y: p.image.y / size.height }, ground: { x: String(p.ground.x), y: String(p.ground.y) } }));
  state.lastCalibration = { errors };
  renderAll();
}

function addCamera() {
  const cfg = newCameraConfig();
  startEditing({ id: null, isNew: true, config: cfg, saved: structuredClone(cfg) });
  history.replaceState(null, '', '#');
  el.id.focus();
}

function startEditing(cur) {
  state.current = cur;
  state.calPoints = [];
  state.calDirty = false;
  state.lastCalibration = null;
  state.invalid = [];
  setTool(null);
  clearSnapshot();
  clearErrors();
  el.saveStatus.textContent = '';
  showEditor();
  fillForm();
  renderAll();
  renderCameraList();
}

function showEditor() {
  el.editor.hidden = false;
  el.welcome.hidden = true;
}

function fillForm() {
  const c = state.current.config;
  el.editorHeading.textContent = state.current.isNew ? 'New camera' : `Camera ${c.name ? `${c.name} (${c.id})` : c.id}`;
  el.id.value = c.id ?? '';
  el.id.readOnly = !state.current.isNew;
  el.name.value = c.name ?? '';
  el.url.value = c.url ?? '';
  el.fps.value = String(c.fps ?? '');
  el.width.value = String(c.width ?? '');
  el.height.value = String(c.height ?? '');
  el.enabled.checked = c.enabled !== false;
  el.live.replaceChildren(h('p', { class: 'muted small', text: state.current.isNew ? 'Save the camera to see live counts.' : '—' }));
  applyStageAspect();
}

/** The form fields into the working config. Numbers stay numbers; the server judges them. */
function readForm(cfg) {
  const num = (input) => (input.value.trim() === '' ? null : Number(input.value));
  cfg.id = el.id.value.trim();
  const name = el.name.value.trim();
  if (name) cfg.name = name;
  else delete cfg.name;
  cfg.url = el.url.value.trim();
  cfg.fps = num(el.fps);
  cfg.width = num(el.width);
  cfg.height = num(el.height);
  cfg.enabled = el.enabled.checked;
  return cfg;
}

function isDirty() {
  if (!state.current) return false;
  const cfg = readForm(structuredClone(state.current.config));
  return state.calDirty || JSON.stringify(cfg) !== JSON.stringify(state.current.saved);
}

function renderDirty() {
  if (!state.current || state.busy) return;
  const dirty = isDirty();
  el.save.classList.toggle('attention', dirty);
  if (dirty) el.saveStatus.textContent = 'Unsaved changes.';
  else if (el.saveStatus.textContent === 'Unsaved changes.') el.saveStatus.textContent = '';
}

function renderAll() {
  renderLines();
  renderZones();
  renderStopLines();
  renderLanes();
  renderCalPoints();
  markInvalid();
  draw();
  renderDirty();
}

// ---- counting lines

function renderLines() {
  const lines = state.current.config.lines;
  el.linesEmpty.hidden = lines.length > 0;
  el.lineRows.replaceChildren(
    ...lines.map((line, i) => {
      const n = i + 1;
      const fwd = forwardOf(line);
      const explicit = !!line.direction;
      return h('tr', { 'data-path': `/lines/${i}` }, [
        h('td', {}, [h('input', { class: 'id-input', value: line.id, 'aria-label': `Line ${n} id`, 'data-path': `/lines/${i}/id`, spellcheck: 'false', oninput: (e) => edit(() => (line.id = e.target.value.trim())) })]),
        h('td', {}, [h('input', { value: line.name ?? '', 'aria-label': `Line ${n} name`, oninput: (e) => edit(() => setOptional(line, 'name', e.target.value.trim())) })]),
        h('td', { class: 'coords', text: `${fmtPt(line.from)} → ${fmtPt(line.to)}` }),
        h('td', { class: 'direction' }, [
          h('span', { text: explicit ? `set (${fmt(fwd.x)}, ${fmt(fwd.y)})` : 'left of from→to' }),
          ' ',
          h('button', { type: 'button', class: 'small-btn', 'aria-label': `Flip direction of line ${n}`, text: 'Flip', onclick: () => edit(() => flipLine(line)) }),
        ]),
        h('td', {}, [
          h('input', {
            type: 'number', class: 'num-input', min: '0', max: '0.5', step: '0.005', value: String(line.minTravel ?? 0.02),
            'aria-label': `Line ${n} minimum travel`, 'data-path': `/lines/${i}/minTravel`,
            oninput: (e) => edit(() => (line.minTravel = e.target.value === '' ? null : Number(e.target.value)), false),
          }),
        ]),
        h('td', {}, [h('button', { type: 'button', class: 'small-btn danger', 'aria-label': `Delete line ${n}`, text: 'Delete', onclick: () => edit(() => state.current.config.lines.splice(i, 1), true) })]),
      ]);
    }),
  );
}

/** Flip the counted direction; the result is always written explicitly, as the installer chose it. */
function flipLine(line) {
  const f = forwardOf(line);
  line.direction = { x: round(-f.x, 4) || 0, y: round(-f.y, 4) || 0 };
}

function setOptional(obj, key, value) {
  if (value === '' || value === undefined) delete obj[key];
  else obj[key] = value;
}

/** Apply an edit to the working config, then redraw (and rebuild the tables when `rerender`). */
function edit(fn, rerender = false) {
  fn();
  if (rerender) renderAll();
  else {
    draw();
    renderDirty();
  }
}

// ---- zones

// The zone kinds of the config schema (core/types.ts ZONE_KINDS): parking and bus-stop silence the stopped-vehicle rule,
// no-stopping makes it flag any stop there sooner.
const ZONE_KINDS = ['carriageway', 'sidewalk', 'area', 'parking', 'bus-stop', 'no-stopping'];

function renderZones() {
  const zones = state.current.config.zones;
  el.zonesEmpty.hidden = zones.length > 0;
  el.zoneRows.replaceChildren(
    ...zones.map((zone, i) => {
      const n = i + 1;
      const kind = h(
        'select',
        { 'aria-label': `Zone ${n} kind`, 'data-path': `/zones/${i}/kind`, onchange: (e) => edit(() => (zone.kind = e.target.value)) },
        ZONE_KINDS.map((k) => h('option', { value: k, text: k, selected: (zone.kind ?? 'area') === k })),
      );
      const lane = zone.laneDirection;
      return h('tr', { 'data-path': `/zones/${i}` }, [
        h('td', {}, [h('input', { class: 'id-input', value: zone.id, 'aria-label': `Zone ${n} id`, 'data-path': `/zones/${i}/id`, spellcheck: 'false', oninput: (e) => edit(() => (zone.id = e.target.value.trim())) })]),
        h('td', {}, [h('input', { value: zone.name ?? '', 'aria-label': `Zone ${n} name`, oninput: (e) => edit(() => setOptional(zone, 'name', e.target.value.trim())) })]),
        h('td', {}, [kind]),
        h('td', { class: 'num', text: String(zone.polygon.length) }),
        h('td', { class: 'direction' }, [
          h('span', { text: lane ? `(${fmt(lane.x)}, ${fmt(lane.y)})` : 'none' }),
          ' ',
          h('button', { type: 'button', class: 'small-btn', 'aria-label': `Draw lane direction of zone ${n}`, text: 'Draw', onclick: () => setTool('lane', i) }),
          lane ? h('button', { type: 'button', class: 'small-btn', 'aria-label': `Clear lane direction of zone ${n}`, text: 'Clear', onclick: () => edit(() => delete zone.laneDirection, true) }) : '',
        ]),
        h('td', {}, [h('button', { type: 'button', class: 'small-btn danger', 'aria-label': `Delete zone ${n}`, text: 'Delete', onclick: () => edit(() => state.current.config.zones.splice(i, 1), true) })]),
      ]);
    }),
  );
}

// ---- stop lines (config `stopLines`: absent until the first one is drawn)

function renderStopLines() {
  const stops = state.current.config.stopLines ?? [];
  el.stopLinesEmpty.hidden = stops.length > 0;
  el.stopLineRows.replaceChildren(
    ...stops.map((line, i) => {
      const n = i + 1;
      return h('tr', { 'data-path': `/stopLines/${i}` }, [
        h('td', {}, [h('input', { class: 'id-input', value: line.id, 'aria-label': `Stop line ${n} id`, 'data-path': `/stopLines/${i}/id`, spellcheck: 'false', oninput: (e) => edit(() => (line.id = e.target.value.trim())) })]),
        h('td', {}, [h('input', { value: line.name ?? '', 'aria-label': `Stop line ${n} name`, oninput: (e) => edit(() => setOptional(line, 'name', e.target.value.trim())) })]),
        h('td', { class: 'coords', text: `${fmtPt(line.from)} → ${fmtPt(line.to)}` }),
        h('td', {}, [h('button', { type: 'button', class: 'small-btn danger', 'aria-label': `Delete stop line ${n}`, text: 'Delete', onclick: () => edit(() => deleteStopLine(i), true) })]),
      ]);
    }),
  );
}

function deleteStopLine(i) {
  const cfg = state.current.config;
  cfg.stopLines?.splice(i, 1);
  if (cfg.stopLines?.length === 0) delete cfg.stopLines;
}

/** A click of the stop-line tool: the first is one end, the second the other end. True when the line is done. */
function addStopLinePoint(p) {
  state.pending.push(p);
  if (state.pending.length < 2) return false;
  const [from, to] = state.pending;
  const cfg = state.current.config;
  cfg.stopLines = cfg.stopLines ?? [];
  cfg.stopLines.push({ id: nextId('stop', cfg.stopLines), from, to });
  return true;
}

/** Stop lines: a solid white bar (as painted on the road), its id above. */
function drawStopLines(ctx, P, bad) {
  (state.current.config.stopLines ?? []).forEach((l, i) => {
    const color = bad(`/stopLines/${i}`) ? COLORS.invalid : COLORS.stop;
    const [x1, y1] = P(l.from);
    outlinedSegment(ctx, [x1, y1], P(l.to), 4, color, 'butt');
    label(ctx, l.id, [x1, y1 - 12], color);
  });
}

// ---- lanes (lane data like loop detectors: a polygon, a direction of travel, a virtual loop)

const LANE_INTERVALS = [20, 30, 60];
const LANE_RGB = '20,184,166';
const LOOP_RGB = '250,204,21';

function lanesOf(cfg) {
  if (!Array.isArray(cfg.lanes)) cfg.lanes = [];
  return cfg.lanes;
}

/** Middle of two points. */
function mid(a, b) {
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
}

/** A click of the lane or loop tool; true when the shape is complete (the tool is done). */
function onLaneClick(p) {
  state.pending.push(p);
  if (state.pending.length < 4) return false;
  const cfg = state.current.config;
  const [a, b, c, d] = state.pending;
  if (state.tool === 'trafficlane') {
    // Entry edge a-b, exit edge c-d: traffic goes from the middle of one to the middle of the other.
    const from = mid(a, b);
    const to = mid(c, d);
    lanesOf(cfg).push({ id: nextId('lane', lanesOf(cfg)), polygon: [a, b, c, d], direction: { x: round(to.x - from.x, 4), y: round(to.y - from.y, 4) } });
  } else {
    const lane = lanesOf(cfg)[state.laneFor ?? -1];
    if (lane) lane.loop = { polygon: [a, b, c, d], ...(lane.loop?.lengthM ? { lengthM: lane.loop.lengthM } : {}) };
  }
  setTool(null);
  renderAll();
  return true;
}

function renderLanes() {
  const cfg = state.current.config;
  const lanes = lanesOf(cfg);
  el.lanesEmpty.hidden = lanes.length > 0;
  el.laneInterval.value = String(cfg.laneData?.intervalSeconds ?? 30);
  el.laneInterval.onchange = () =>
    edit(() => {
      const v = Number(el.laneInterval.value);
      if (LANE_INTERVALS.includes(v)) cfg.laneData = { ...(cfg.laneData ?? {}), intervalSeconds: v };
    });
  el.laneRows.replaceChildren(
    ...lanes.map((lane, i) => {
      const n = i + 1;
      const dir = lane.direction ?? { x: 0, y: 0 };
      const loop = lane.loop;
      return h('tr', { 'data-path': `/lanes/${i}` }, [
        h('td', {}, [h('input', { class: 'id-input', value: lane.id, 'aria-label': `Lane ${n} id`, 'data-path': `/lanes/${i}/id`, spellcheck: 'false', oninput: (e) => edit(() => (lane.id = e.target.value.trim())) })]),
        h('td', {}, [h('input', { value: lane.name ?? '', 'aria-label': `Lane ${n} name`, oninput: (e) => edit(() => setOptional(lane, 'name', e.target.value.trim())) })]),
        h('td', { class: 'num', text: lane.polygon ? String(lane.polygon.length) : 'divider' }),
        h('td', { class: 'direction' }, [
          h('span', { text: `(${fmt(dir.x)}, ${fmt(dir.y)})` }),
          ' ',
          h('button', { type: 'button', class: 'small-btn', 'aria-label': `Flip direction of lane ${n}`, text: 'Flip', onclick: () => edit(() => (lane.direction = { x: round(-dir.x, 4) || 0, y: round(-dir.y, 4) || 0 }), true) }),
        ]),
        h('td', { class: 'direction' }, [
          h('span', { text: loop ? `${loop.polygon.length} points` : 'whole lane' }),
          ' ',
          h('button', { type: 'button', class: 'small-btn', 'aria-label': `Draw loop of lane ${n}`, text: 'Draw', onclick: () => setTool('loop', i) }),
          loop ? h('button', { type: 'button', class: 'small-btn', 'aria-label': `Clear loop of lane ${n}`, text: 'Clear', onclick: () => edit(() => delete lane.loop, true) }) : '',
        ]),
        h('td', {}, [
          h('input', {
            type: 'number', class: 'num-input', min: '0.5', max: '100', step: '0.1', value: loop?.lengthM === undefined ? '' : String(loop.lengthM), disabled: !loop,
            placeholder: 'm', 'aria-label': `Loop length of lane ${n} (m)`, 'data-path': `/lanes/${i}/loop/lengthM`,
            oninput: (e) => edit(() => loop && setOptional(loop, 'lengthM', e.target.value === '' ? undefined : Number(e.target.value))),
          }),
        ]),
        h('td', {}, [h('button', { type: 'button', class: 'small-btn danger', 'aria-label': `Delete lane ${n}`, text: 'Delete', onclick: () => edit(() => lanes.splice(i, 1), true) })]),
      ]);
    }),
  );
}

function drawPolygon(ctx, P, poly, rgb, fillAlpha, dashed) {
  ctx.beginPath();
  poly.forEach((p, k) => (k === 0 ? ctx.moveTo(...P(p)) : ctx.lineTo(...P(p))));
  ctx.closePath();
  ctx.fillStyle = `rgba(${rgb},${fillAlpha})`;
  ctx.fill();
  if (dashed) ctx.setLineDash([5, 3]);
  ctx.lineWidth = 2;
  ctx.strokeStyle = `rgb(${rgb})`;
  ctx.stroke();
  ctx.setLineDash([]);
}

function drawLanes(ctx, P, bad, W, H) {
  lanesOf(state.current.config).forEach((lane, i) => {
    const invalid = bad(`/lanes/${i}`);
    const rgb = invalid ? '255,77,77' : LANE_RGB;
    if (lane.polygon) drawPolygon(ctx, P, lane.polygon, rgb, 0.12, true);
    if (lane.loop) drawPolygon(ctx, P, lane.loop.polygon, invalid ? rgb : LOOP_RGB, 0.35, false);
    const poly = lane.loop?.polygon ?? lane.polygon ?? [];
    if (poly.length === 0) return;
    const c = { x: poly.reduce((s, p) => s + p.x, 0) / poly.length, y: poly.reduce((s, p) => s + p.y, 0) / poly.length };
    if (lane.direction) arrow(ctx, P(c), [lane.direction.x * W, lane.direction.y * H], 34, `rgb(${rgb})`);
    const [lx, ly] = P(c);
    label(ctx, lane.id, [lx + 8, ly + 4], `rgb(${rgb})`);
  });
}

// ---- calibration points

function renderCalPoints() {
  const rows = state.calPoints.map((p, i) => {
    const n = i + 1;
    const px = calPixel(p);
    const ground = (axis) =>
      h('input', {
        type: 'number', step: 'any', class: 'num-input', value: p.ground[axis], placeholder: 'metres',
        'aria-label': `Ground ${axis.toUpperCase()} of point ${n} (m)`, 'data-path': `/points/${i}/ground/${axis}`,
        oninput: (e) => {
          p.ground[axis] = e.target.value;
          state.calDirty = true;
          renderDirty();
        },
      });
    return h('tr', { 'data-path': `/points/${i}` }, [
      h('td', { class: 'num', text: String(n) }),
      h('td', { class: 'num', text: fmt(px.x, 1) }),
      h('td', { class: 'num', text: fmt(px.y, 1) }),
      h('td', {}, [ground('x')]),
      h('td', {}, [ground('y')]),
      h('td', {}, [
        h('button', {
          type: 'button', class: 'small-btn danger', 'aria-label': `Delete calibration point ${n}`, text: 'Delete',
          onclick: () => edit(() => { state.calPoints.splice(i, 1); state.calDirty = true; }, true),
        }),
      ]),
    ]);
  });
  if (rows.length === 0) rows.push(h('tr', {}, [h('td', { colspan: '6', class: 'muted small', text: 'No calibration points yet.' })]));
  el.calRows.replaceChildren(...rows);
  const cam = state.cameras.find((x) => x.id === state.current?.id);
  el.calStatus.textContent = calibrationText(cam);
}

/** Points the installer left incomplete, named like the server names its issues. */
function calibrationIssues() {
  const issues = [];
  if (state.calPoints.length > 0 && state.calPoints.length < 4) issues.push({ path: '/points', message: `need at least 4 points, ${state.calPoints.length} picked` });
  state.calPoints.forEach((p, i) => {
    for (const axis of ['x', 'y']) {
      if (p.ground[axis] === '' || !Number.isFinite(Number(p.ground[axis]))) issues.push({ path: `/points/${i}/ground/${axis}`, message: 'enter the ground position in metres' });
    }
  });
  return issues;
}

// ---------------------------------------------------------------- snapshot

function clearSnapshot() {
  clearTimeout(state.snapshotTimer);
  if (state.snapshotUrl) URL.revokeObjectURL(state.snapshotUrl);
  state.snapshotUrl = null;
  state.snapshotSize = null;
  el.img.removeAttribute('src');
  el.img.hidden = true;
  el.snapshotStatus.textContent = '';
  el.stage.classList.add('empty');
}

/** Fetches the anonymized snapshot; while the box withholds it, shows why and tries again. */
async function loadSnapshot() {
  clearTimeout(state.snapshotTimer);
  const cur = state.current;
  if (!cur || cur.isNew) {
    el.snapshotStatus.textContent = 'Save the camera first: the snapshot appears once its frames are analysed.';
    return;
  }
  const id = cur.id;
  el.snapshotStatus.textContent = 'Loading snapshot…';
  let res;
  try {
    res = await fetch(`${API}/cameras/${enc(id)}/snapshot.jpg`, { headers: { accept: `image/jpeg, ${ACCEPT_JSON}` }, cache: 'no-store', credentials: 'same-origin' });
  } catch (err) {
    res = null;
  }
  if (state.current !== cur) return;
  if (!res || !res.ok) {
    const body = res ? await res.json().catch(() => null) : null;
    const why = body?.error ?? (res ? `HTTP ${res.status}` : 'appliance unreachable');
    el.snapshotStatus.textContent = `No snapshot: ${why}. Trying again in ${SNAPSHOT_RETRY_MS / 1000} s.`;
    el.snapshotStatus.className = 'snapshot-status warn';
    state.snapshotTimer = setTimeout(loadSnapshot, SNAPSHOT_RETRY_MS);
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  el.img.onload = () => {
    if (state.snapshotUrl && state.snapshotUrl !== url) URL.revokeObjectURL(state.snapshotUrl);
    state.snapshotUrl = url;
    state.snapshotSize = { width: el.img.naturalWidth, height: el.img.naturalHeight };
    el.img.hidden = false;
    el.stage.classList.remove('empty');
    el.snapshotStatus.textContent = `Anonymized snapshot, ${el.img.naturalWidth}×${el.img.naturalHeight}, ${new Date().toLocaleTimeString()}. Faces and plates are pixelated.`;
    el.snapshotStatus.className = 'snapshot-status';
    applyStageAspect();
    renderCalPoints();
  };
  el.img.onerror = () => {
    URL.revokeObjectURL(url);
    el.snapshotStatus.textContent = 'No snapshot: the image could not be decoded.';
    el.snapshotStatus.className = 'snapshot-status warn';
  };
  el.img.src = url;
}

function applyStageAspect() {
  const s = state.snapshotSize ?? imageSize();
  el.stage.style.aspectRatio = `${s.width} / ${s.height}`;
  resizeCanvas();
}

// ---------------------------------------------------------------- drawing tools

const HINTS = {
  null: 'Pick a tool, then click on the snapshot.',
  line: 'Counting line: click its start, then its end. The arrow shows the forward direction; flip it in the table.',
  zone: 'Zone: click its corners; click the first point again or press “Close zone” to finish. Esc cancels.',
  cal: 'Calibration: click a point on the road whose ground position you know, then enter it in metres below. 4 or more points.',
  lane: 'Lane direction: click two points along the direction traffic should go in this zone.',
  stop: 'Stop line: click one end, then the other, across the lanes where vehicles wait.',
  trafficlane: 'Lane: click its 4 corners, first the two where traffic enters, then the two where it leaves. Esc cancels.',
  loop: 'Virtual loop: click the 4 corners of a short stretch of the lane. Esc cancels.',
};

function setTool(tool, laneFor = null) {
  state.tool = tool;
  state.laneFor = laneFor;
  state.pending = [];
  for (const b of el.tools) b.setAttribute('aria-pressed', String(b.dataset.tool === tool));
  el.closeZone.hidden = tool !== 'zone';
  el.cancelDrawing.hidden = tool === null;
  el.cancelDrawing.textContent = tool === 'cal' ? 'Done' : 'Cancel drawing';
  el.hint.textContent = tool === 'lane' && laneFor !== null ? `${HINTS.lane} (zone ${laneFor + 1})` : tool === 'loop' && laneFor !== null ? `${HINTS.loop} (lane ${laneFor + 1})` : HINTS[String(tool)];
  el.canvas.classList.toggle('drawing', tool !== null);
  // Tools started from the tables below need the image in view.
  if (tool !== null) el.stage.scrollIntoView({ block: 'nearest' });
  updateCloseZone();
  draw();
}

function updateCloseZone() {
  el.closeZone.disabled = !(state.tool === 'zone' && state.pending.length >= 3);
}

/** Click position as relative image coordinates, 4 decimals. */
function relPoint(ev) {
  const r = el.canvas.getBoundingClientRect();
  return { x: round(clamp01((ev.clientX - r.left) / r.width), 4), y: round(clamp01((ev.clientY - r.top) / r.height), 4) };
}

function onCanvasClick(ev) {
  if (!state.current || !state.tool) return;
  const p = relPoint(ev);
  const cfg = state.current.config;
  switch (state.tool) {
    case 'line':
      state.pending.push(p);
      if (state.pending.length === 2) {
        const [from, to] = state.pending;
        cfg.lines.push({ id: nextId('line', cfg.lines), from, to, minTravel: 0.02 });
        setTool(null);
        renderAll();
        return;
      }
      break;
    case 'zone': {
      const first = state.pending[0];
      if (first && state.pending.length >= 3 && distPx(first, p) <= CLOSE_ZONE_PX) return closeZone();
      state.pending.push(p);
      updateCloseZone();
      break;
    }
    case 'cal':
      state.calPoints.push({ rel: p, ground: { x: '', y: '' } });
      state.calDirty = true;
      renderAll();
      /** @type {HTMLInputElement|null} */ (el.calRows.querySelector(`tr:nth-child(${state.calPoints.length}) input`))?.focus({ preventScroll: true });
      return;
    case 'stop':
      if (addStopLinePoint(p)) {
        setTool(null);
        renderAll();
        return;
      }
      break;
    case 'trafficlane':
    case 'loop':
      if (onLaneClick(p)) return;
      break;
    case 'lane':
      state.pending.push(p);
      if (state.pending.length === 2) {
        const [a, b] = state.pending;
        const zone = cfg.zones[state.laneFor ?? -1];
        if (zone && (a.x !== b.x || a.y !== b.y)) zone.laneDirection = { x: round(b.x - a.x, 4), y: round(b.y - a.y, 4) };
        setTool(null);
        renderAll();
        return;
      }
      break;
  }
  draw();
}

function closeZone() {
  if (state.tool !== 'zone' || state.pending.length < 3) return;
  const cfg = state.current.config;
  cfg.zones.push({ id: nextId('zone', cfg.zones), polygon: state.pending, kind: 'carriageway' });
  setTool(null);
  renderAll();
}

function distPx(a, b) {
  const r = el.canvas.getBoundingClientRect();
  return Math.hypot((a.x - b.x) * r.width, (a.y - b.y) * r.height);
}

// ---------------------------------------------------------------- canvas

function resizeCanvas() {
  const r = el.stage.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(r.width * dpr));
  const hh = Math.max(1, Math.round(r.height * dpr));
  if (el.canvas.width !== w || el.canvas.height !== hh) {
    el.canvas.width = w;
    el.canvas.height = hh;
  }
  draw();
}

const COLORS = {
  line: '#ffd23f',
  arrow: '#3ddc97',
  invalid: '#ff4d4d',
  pending: '#4cc9f0',
  cal: '#f72585',
  zone: { carriageway: '59,130,246', sidewalk: '34,197,94', area: '249,115,22', parking: '168,85,247', 'bus-stop': '236,72,153', 'no-stopping': '239,68,68' },
  stop: '#f8f9fa',
};

function draw() {
  const c = el.canvas;
  const ctx = c.getContext('2d');
  if (!ctx) return;
  const dpr = window.devicePixelRatio || 1;
  const W = c.width / dpr;
  const H = c.height / dpr;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.font = '600 12px system-ui, sans-serif';
  if (!state.current) return;
  const P = (p) => [p.x * W, p.y * H];
  const cfg = state.current.config;
  const bad = (path) => state.invalid.some((x) => x === path || x.startsWith(path + '/'));

  cfg.zones.forEach((z, i) => {
    const rgb = COLORS.zone[z.kind ?? 'area'] ?? COLORS.zone.area;
    const invalid = bad(`/zones/${i}`);
    ctx.beginPath();
    z.polygon.forEach((p, k) => (k === 0 ? ctx.moveTo(...P(p)) : ctx.lineTo(...P(p))));
    ctx.closePath();
    ctx.fillStyle = `rgba(${rgb},0.22)`;
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = invalid ? COLORS.invalid : `rgb(${rgb})`;
    ctx.stroke();
    const cx = z.polygon.reduce((s, p) => s + p.x, 0) / z.polygon.length;
    const cy = z.polygon.reduce((s, p) => s + p.y, 0) / z.polygon.length;
    if (z.laneDirection) arrow(ctx, P({ x: cx, y: cy }), [z.laneDirection.x * W, z.laneDirection.y * H], 40, `rgb(${rgb})`);
    const [lx, ly] = P({ x: cx, y: cy });
    label(ctx, z.id, [lx - ctx.measureText(z.id).width / 2, ly - 10], invalid ? COLORS.invalid : `rgb(${rgb})`);
  });

  drawStopLines(ctx, P, bad);

  drawLanes(ctx, P, bad, W, H);

  cfg.lines.forEach((l, i) => {
    const invalid = bad(`/lines/${i}`);
    const color = invalid ? COLORS.invalid : COLORS.line;
    const [x1, y1] = P(l.from);
    const [x2, y2] = P(l.to);
    outlinedSegment(ctx, [x1, y1], [x2, y2], 3, color, 'round');
    dot(ctx, [x1, y1], 5, color);
    dot(ctx, [x2, y2], 5, color);
    const f = forwardOf(l);
    // Scaling the relative normal to pixels keeps it on the same side of the line.
    if (Math.hypot(f.x, f.y) > 0) arrow(ctx, [(x1 + x2) / 2, (y1 + y2) / 2], [f.x * W, f.y * H], 38, invalid ? COLORS.invalid : COLORS.arrow);
    label(ctx, l.id, [x1, y1 - 12], color);
  });

  state.calPoints.forEach((p, i) => {
    const xy = P(p.rel);
    ctx.beginPath();
    ctx.arc(xy[0], xy[1], 7, 0, Math.PI * 2);
    ctx.lineWidth = 2;
    ctx.strokeStyle = bad(`/points/${i}`) ? COLORS.invalid : COLORS.cal;
    ctx.stroke();
    dot(ctx, xy, 2, COLORS.cal);
    label(ctx, String(i + 1), [xy[0] + 14, xy[1] - 10], COLORS.cal);
  });

  if (state.pending.length > 0) {
    const pts = [...state.pending, ...(state.hover ? [state.hover] : [])].map(P);
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = COLORS.pending;
    ctx.beginPath();
    pts.forEach((p, k) => (k === 0 ? ctx.moveTo(...p) : ctx.lineTo(...p)));
    ctx.stroke();
    ctx.setLineDash([]);
    state.pending.forEach((p, k) => dot(ctx, P(p), k === 0 && state.tool === 'zone' ? 7 : 4, COLORS.pending));
  }
}

/** A segment in `color` over a dark outline 3 px wider, so it reads on any picture. */
function outlinedSegment(ctx, [x1, y1], [x2, y2], width, color, cap) {
  ctx.lineCap = cap;
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x2, y2);
  ctx.lineWidth = width + 3;
  ctx.strokeStyle = 'rgba(0,0,0,0.55)';
  ctx.stroke();
  ctx.lineWidth = width;
  ctx.strokeStyle = color;
  ctx.stroke();
}

function dot(ctx, [x, y], r, color) {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fillStyle = color;
  ctx.fill();
}

function arrow(ctx, [x, y], [dx, dy], len, color) {
  const n = Math.hypot(dx, dy);
  if (n === 0) return;
  const ux = dx / n;
  const uy = dy / n;
  const ex = x + ux * len;
  const ey = y + uy * len;
  ctx.lineWidth = 3;
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(ex - ux * 8, ey - uy * 8);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(ex, ey);
  ctx.lineTo(ex - ux * 12 - uy * 7, ey - uy * 12 + ux * 7);
  ctx.lineTo(ex - ux * 12 + uy * 7, ey - uy * 12 - ux * 7);
  ctx.closePath();
  ctx.fill();
}

function label(ctx, text, [x, y], color) {
  ctx.font = '600 12px system-ui, sans-serif';
  const w = ctx.measureText(text).width;
  ctx.fillStyle = 'rgba(0,0,0,0.65)';
  ctx.fillRect(x - 3, y - 11, w + 6, 15);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
}

// ---------------------------------------------------------------- save and errors

async function save(ev) {
  ev.preventDefault();
  if (!state.current || state.busy) return;
  clearErrors();
  const cur = state.current;
  const cfg = readForm(structuredClone(cur.config));
  const calIssues = calibrationIssues();
  if (calIssues.length > 0) {
    showErrors({ error: 'calibration points are incomplete', issues: calIssues }, 'Not saved: complete the calibration points first');
    return;
  }
  setBusy(true, 'Saving…');
  try {
    const r = cur.isNew ? await api('POST', '/cameras', cfg) : await api('PUT', `/cameras/${enc(cur.id)}`, cfg);
    if (!r.ok) {
      showErrors(r.data, 'Not saved: the appliance refused the camera config, the running config is unchanged');
      el.saveStatus.textContent = 'Not saved.';
      return;
    }
    if (cur.isNew) {
      cur.isNew = false;
      cur.id = cfg.id;
      history.replaceState(null, '', `#${enc(cfg.id)}`);
    }
    const messages = ['Camera saved and applied.'];
    if (state.calPoints.length > 0 && state.calDirty) {
      const size = imageSize();
      const body = {
        imageSize: size,
        points: state.calPoints.map((p) => ({ image: calPixel(p), ground: { x: Number(p.ground.x), y: Number(p.ground.y) } })),
      };
      const c = await api('POST', `/cameras/${enc(cur.id)}/calibration`, body);
      if (!c.ok) {
        showErrors(c.data, 'The camera was saved, but the calibration was refused');
        messages.push('Calibration not saved.');
      } else {
        state.calDirty = false;
        state.lastCalibration = c.data;
        messages.push(`Calibration saved (RMS error ${fmt(c.data.errors.rmsM, 2)} m).`);
      }
    }
    // What the server now holds (defaults filled in, calibration path set) becomes the working copy.
    const fresh = await api('GET', `/cameras/${enc(cur.id)}/config`);
    if (fresh.ok && state.current === cur) {
      cur.config = fresh.data;
      cur.saved = structuredClone(fresh.data);
      state.invalid = [];
      fillForm();
      renderAll();
    }
    el.saveStatus.textContent = messages.join(' ');
    await pollCameras();
    if (!state.snapshotUrl) loadSnapshot();
  } finally {
    setBusy(false);
  }
}

function setBusy(busy, text) {
  state.busy = busy;
  el.save.disabled = busy;
  el.form.setAttribute('aria-busy', String(busy));
  if (text) el.saveStatus.textContent = text;
}

async function revert() {
  const cur = state.current;
  if (!cur) return;
  if (cur.isNew) return addCamera();
  await openCamera(cur.id);
}

function clearErrors() {
  el.errors.hidden = true;
  el.errorsList.replaceChildren();
  state.invalid = [];
  markInvalid();
  draw();
}

/** Issue paths come as /cameras/<i>/lines/0 (whole-config check) or /lines/0 (request body). */
const cameraPath = (path) => (path ?? '').replace(/^\/cameras\/\d+(?=\/|$)/, '') || '/';

const FIELD_NAMES = {
  id: 'Camera id', name: 'Name', url: 'RTSP URL', fps: 'Analysed fps', width: 'Width', height: 'Height',
  enabled: 'Enabled', stallSeconds: 'Stall seconds', calibration: 'Calibration file', incidents: 'Incident rules',
  imageSize: 'Snapshot size', points: 'Calibration points', minTravel: 'minimum travel',
};

/** A human name for an issue path: "Counting line 2 (line-2) › from › x". */
function fieldName(path) {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return 'Camera';
  const cfg = state.current?.config;
  const [head, idx, ...rest] = parts;
  let name;
  if (head === 'lines' && idx !== undefined) name = `Counting line ${Number(idx) + 1}${cfg?.lines?.[idx]?.id ? ` (${cfg.lines[idx].id})` : ''}`;
  else if (head === 'stopLines' && idx !== undefined) name = `Stop line ${Number(idx) + 1}${cfg?.stopLines?.[idx]?.id ? ` (${cfg.stopLines[idx].id})` : ''}`;
  else if (head === 'zones' && idx !== undefined) name = `Zone ${Number(idx) + 1}${cfg?.zones?.[idx]?.id ? ` (${cfg.zones[idx].id})` : ''}`;
  else if (head === 'points' && idx !== undefined) name = `Calibration point ${Number(idx) + 1}`;
  else if (head === 'lanes' && idx !== undefined) name = `Lane ${Number(idx) + 1}${cfg?.lanes?.[idx]?.id ? ` (${cfg.lanes[idx].id})` : ''}`;
  else return [FIELD_NAMES[head] ?? head, ...parts.slice(1).map((p) => FIELD_NAMES[p] ?? p)].join(' › ');
  return [name, ...rest.map((p) => FIELD_NAMES[p] ?? p)].join(' › ');
}

function showErrors(data, summary) {
  const issues = (data?.issues ?? []).map((i) => ({ path: cameraPath(i.path), message: i.message }));
  el.errorsHeading.textContent = summary;
  el.errorsSummary.textContent = `The appliance says: ${data?.error ?? 'unknown error'}`;
  el.errorsList.replaceChildren(
    ...issues.map((i) => h('li', {}, [h('strong', { text: fieldName(i.path) }), ' ', h('code', { text: i.path }), `: ${i.message}`])),
  );
  el.errors.hidden = false;
  state.invalid = issues.map((i) => i.path);
  markInvalid();
  draw();
  el.errors.scrollIntoView({ block: 'nearest' });
}

/** Marks every field whose path the server named (or that lies above a named path). */
function markInvalid() {
  const marked = new Set();
  for (const node of el.form.querySelectorAll('[data-path]')) {
    const dp = node.getAttribute('data-path');
    const hit = state.invalid.some((p) => p === dp || p.startsWith(dp + '/'));
    node.classList.toggle('invalid', hit);
    // A refused line, zone or point as a whole marks its row and the id that names it.
    if (hit) marked.add(node instanceof HTMLTableRowElement ? node.querySelector('.id-input') : node);
  }
  for (const input of el.form.querySelectorAll('input, select')) {
    if (marked.has(input)) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

// ---------------------------------------------------------------- wiring

el.addCamera.addEventListener('click', addCamera);
el.form.addEventListener('submit', save);
el.form.addEventListener('input', (e) => {
  if (e.target instanceof HTMLElement && e.target.closest('.camera-fields')) {
    if (e.target === el.width || e.target === el.height) applyStageAspect();
    renderDirty();
  }
});
el.revert.addEventListener('click', revert);
el.refreshSnapshot.addEventListener('click', loadSnapshot);
el.healthConfirm.addEventListener('click', confirmView);
for (const b of el.tools) b.addEventListener('click', () => setTool(state.tool === b.dataset.tool ? null : /** @type {any} */ (b.dataset.tool)));
el.closeZone.addEventListener('click', closeZone);
el.cancelDrawing.addEventListener('click', () => setTool(null));
el.canvas.addEventListener('click', onCanvasClick);
el.canvas.addEventListener('mousemove', (ev) => {
  if (state.pending.length === 0) return;
  state.hover = relPoint(ev);
  draw();
});
el.canvas.addEventListener('mouseleave', () => {
  state.hover = null;
  draw();
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && state.tool) setTool(null);
  if (ev.key === 'Enter' && state.tool === 'zone' && document.activeElement === el.canvas) closeZone();
});
new ResizeObserver(resizeCanvas).observe(el.stage);
window.addEventListener('beforeunload', (ev) => {
  if (isDirty()) ev.preventDefault();
});

async function main() {
  await pollCameras();
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && state.cameras.some((c) => c.id === wanted)) await openCamera(wanted);
  setInterval(pollCameras, POLL_MS);
}
main();
