// dragoman analyst console: paste an article and read its brief; run and follow batch jobs.
// Plain browser JavaScript, no dependencies: it talks to this server's /v1 API only.
'use strict';

const $ = (selector, root = document) => root.querySelector(selector);
const KEY_STORAGE = 'dragoman.apiKey';
const JOBS_POLL_MS = 1000;
const STATUS_POLL_MS = 3000;

// ---------------------------------------------------------------------------------------------
// HTTP: every call carries the API key (when one is set) and turns failures into sentences a
// person can act on.

/** A failed API call, with a message meant for the reader. */
class ApiFailure extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function apiKey() {
  try { return localStorage.getItem(KEY_STORAGE) || ''; } catch (_) { return ''; }
}

function authHeaders(extra = {}) {
  const key = apiKey().trim();
  return key ? { ...extra, Authorization: 'Bearer ' + key } : extra;
}

/** `text` with a capital first letter and a final full stop. */
function sentence(text) {
  const t = text.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

/** What to tell the reader about a failed response. */
function explain(status, body, retryAfter) {
  const said = body && typeof body.error === 'string' ? body.error : '';
  const code = body && body.code;
  const wait = retryAfter ? ` Try again in ${retryAfter} s.` : ' Try again in a moment.';
  switch (status) {
    case 401: return 'This server needs an API key: open Settings (top right) and enter it.';
    case 403: return 'The server refused the API key: check it under Settings.';
    case 413: return `Too long for this server: ${said ? sentence(said) : ''} Shorten the text or split it into parts.`;
    case 429: return (said ? sentence(said) : 'The server is busy.') + wait;
    case 501: return said ? sentence(said) : 'This server does not offer this feature.';
    case 503:
      if (lastStatus && lastStatus.status === 'failed') {
        return `The server's model could not be loaded (${lastStatus.detail || 'see the server log'}): check its --model setting and restart it.`;
      }
      return code === 'not_ready' ? 'The models are still loading.' + wait : `The server is not ready: ${said}`;
    default:
      if (status >= 500) return `The server failed: ${said || 'HTTP ' + status}. If this persists, check the server log.`;
      return said || `The request was refused (HTTP ${status}).`;
  }
}

/** Calls the API; resolves to the parsed JSON (or the Response when `raw`), throws ApiFailure. */
async function api(path, { method = 'GET', json, body, contentType, signal, raw = false } = {}) {
  const headers = authHeaders(contentType ? { 'Content-Type': contentType } : {});
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: json !== undefined ? JSON.stringify(json) : body, signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiFailure('Cannot reach the dragoman server. Is it still running? (' + error.message + ')', 0, 'network');
  }
  if (!response.ok) {
    let parsed = null;
    try { parsed = await response.json(); } catch (_) { /* not JSON */ }
    throw new ApiFailure(explain(response.status, parsed, response.headers.get('Retry-After')), response.status, parsed && parsed.code);
  }
  return raw ? response : response.json();
}

function showError(element, message) {
  element.textContent = message;
  element.hidden = !message;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('data-') || name.startsWith('aria-') || name === 'role' || name === 'tabindex' || name === 'title' || name === 'type') node.setAttribute(name, value);
    else node[name] = value;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function seconds(ms) { return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s'; }

function duration(totalSeconds) {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return true; } catch (_) { /* fall back */ }
  }
  const area = el('textarea', { value: text, 'aria-hidden': 'true' });
  area.style.position = 'fixed'; area.style.opacity = '0';
  document.body.append(area);
  area.select();
  let copied = false;
  try { copied = document.execCommand('copy'); } catch (_) { copied = false; }
  area.remove();
  return copied;
}

function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function stamp() {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

// ---------------------------------------------------------------------------------------------
// Tabs (WAI-ARIA tabs pattern: click, or arrow keys between tabs)

const tabs = () => [$('#tab-analyse'), $('#tab-jobs')];

function selectTab(tab, focus = false) {
  for (const other of tabs()) {
    const selected = other === tab;
    other.setAttribute('aria-selected', String(selected));
    other.tabIndex = selected ? 0 : -1;
    $('#' + other.getAttribute('aria-controls')).hidden = !selected;
  }
  if (focus) tab.focus();
  const hash = tab.id === 'tab-jobs' ? '#jobs' : '#analyse';
  if (location.hash !== hash) history.replaceState(null, '', hash);
  if (tab.id === 'tab-jobs') refreshJobs();
}

function setUpTabs() {
  for (const tab of tabs()) {
    tab.addEventListener('click', () => selectTab(tab));
    tab.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
      const all = tabs();
      const next = all[(all.indexOf(tab) + (event.key === 'ArrowRight' ? 1 : all.length - 1)) % all.length];
      selectTab(next, true);
      event.preventDefault();
    });
  }
  selectTab(location.hash === '#jobs' ? $('#tab-jobs') : $('#tab-analyse'));
}

// ---------------------------------------------------------------------------------------------
// Analyse

let current = null; // { article, analysis }
let running = null; // AbortController of the analysis in flight
let limits = null; // from /v1/status
let lastStatus = null; // the last /v1/status answer

function updateCount() {
  const n = $('#article').value.length;
  const limit = limits && limits.max_chars;
  $('#article-count').textContent = n === 0 ? '' : limit
    ? `${n.toLocaleString('en')} / ${limit.toLocaleString('en')} characters${n > limit ? ' — over the limit' : ''}`
    : `${n.toLocaleString('en')} characters`;
}

async function analyse(event) {
  event.preventDefault();
  const text = $('#article').value;
  const errorBox = $('#error');
  showError(errorBox, '');
  if (!text.trim()) {
    showError(errorBox, 'Paste an article (or drop a text file) first.');
    $('#article').focus();
    return;
  }
  const sentences = Number($('#summary-sentences').value || 3);
  const summary = { sentences };
  if ($('#summary-mode').value) summary.mode = $('#summary-mode').value;
  const request = { text, source: $('#language').value, summary };

  running = new AbortController();
  const started = performance.now();
  const tick = () => {
    const elapsed = (performance.now() - started) / 1000;
    $('#progress-text').textContent = `Translating and analysing… ${elapsed.toFixed(0)} s`;
  };
  tick();
  const timer = setInterval(tick, 500);
  $('#progress').hidden = false;
  $('#analyse').disabled = true;
  $('#analyse-cancel').hidden = false;
  document.body.setAttribute('aria-busy', 'true');
  try {
    const analysis = await api('/v1/analyze', { method: 'POST', json: request, signal: running.signal });
    current = { article: text, analysis };
    renderAnalysis(current);
  } catch (error) {
    if (error.name === 'AbortError') showError(errorBox, 'Stopped. Press Analyse to run it again.');
    else showError(errorBox, error.message);
  } finally {
    clearInterval(timer);
    running = null;
    $('#progress').hidden = true;
    $('#analyse').disabled = false;
    $('#analyse-cancel').hidden = true;
    document.body.removeAttribute('aria-busy');
  }
}

/** One paragraph of sentence spans; `pick` chooses the text shown for each sentence. */
function paragraph(sentences, first, pick) {
  const p = el('p');
  sentences.forEach((sentence, k) => {
    if (k > 0) p.append(' ');
    const index = first + k;
    const low = sentence.low_confidence;
    const title = sentence.score === undefined || sentence.score === null ? undefined
      : `confidence ${sentence.score.toFixed(2)}${low ? ' — low: check this line against the original' : ''}`;
    p.append(el('span', { class: 'sentence' + (low ? ' low' : ''), 'data-sentence': index, tabindex: '0', title }, pick(sentence)));
  });
  return p;
}

function linkSentences(on, index, cls) {
  for (const span of document.querySelectorAll(`.sentence[data-sentence="${index}"]`)) {
    span.classList.toggle(cls, on);
  }
}

function setUpSentenceLinks(container) {
  const indexOf = (event) => event.target.closest && event.target.closest('.sentence');
  container.addEventListener('mouseover', (e) => { const s = indexOf(e); if (s) linkSentences(true, s.dataset.sentence, 'linked'); });
  container.addEventListener('mouseout', (e) => { const s = indexOf(e); if (s) linkSentences(false, s.dataset.sentence, 'linked'); });
  container.addEventListener('focusin', (e) => { const s = indexOf(e); if (s) linkSentences(true, s.dataset.sentence, 'linked'); });
  container.addEventListener('focusout', (e) => { const s = indexOf(e); if (s) linkSentences(false, s.dataset.sentence, 'linked'); });
  const pin = (span) => {
    clearEvidence();
    linkSentences(true, span.dataset.sentence, 'evidence');
    const other = [...document.querySelectorAll(`.sentence[data-sentence="${span.dataset.sentence}"]`)].find((s) => s !== span);
    if (other) other.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  };
  container.addEventListener('click', (e) => { const s = indexOf(e); if (s) pin(s); });
  container.addEventListener('keydown', (e) => {
    const s = indexOf(e);
    if (s && (e.key === 'Enter' || e.key === ' ')) { pin(s); e.preventDefault(); }
  });
}

function clearEvidence() {
  for (const span of document.querySelectorAll('.sentence.evidence')) span.classList.remove('evidence');
  for (const button of document.querySelectorAll('#tags button[aria-pressed=true], #events button[aria-pressed=true]')) button.setAttribute('aria-pressed', 'false');
}

/** English articles have no sentence alignment: one span per line, evidence found by search. */
function englishParagraphs(article) {
  return article.split('\n').filter((line) => line.trim()).map((line, i) => el('p', {}, el('span', { class: 'sentence', 'data-sentence': 'en-' + i, tabindex: '0' }, line.trim())));
}

function renderTexts({ article, analysis }) {
  const original = $('#original');
  const english = $('#translation');
  original.replaceChildren();
  english.replaceChildren();
  const translated = analysis.translation;
  $('#original-title').textContent = translated ? 'Original (French)' : 'Original (English)';
  english.closest('section').hidden = !translated;
  if (!translated) {
    original.append(...englishParagraphs(article));
    return;
  }
  let index = 0;
  for (const p of translated.paragraphs) {
    original.append(paragraph(p.sentences, index, (s) => s.source));
    english.append(paragraph(p.sentences, index, (s) => s.text));
    index += p.sentences.length;
  }
}

/** The span(s) holding a tag's evidence: the aligned sentence, else the line containing it. */
function evidenceSpans(tag) {
  const spans = [...document.querySelectorAll('#translation .sentence, #original .sentence')];
  const exact = spans.find((s) => s.textContent.trim() === tag.evidence.trim());
  if (exact) return document.querySelectorAll(`.sentence[data-sentence="${exact.dataset.sentence}"]`);
  const containing = spans.find((s) => s.textContent.includes(tag.evidence.trim()) || (tag.evidence_source && s.textContent.includes(tag.evidence_source.trim())));
  return containing ? document.querySelectorAll(`.sentence[data-sentence="${containing.dataset.sentence}"]`) : [];
}

/** One event as a row: who — did what — to whom — where — when — status. */
function eventRow(event) {
  const what = event.mode ? `${event.type}/${event.mode}` : event.type;
  const when = event.date ? (event.date.start === event.date.end ? event.date.start : `${event.date.start} – ${event.date.end}`) + ` (“${event.date.phrase}”)` : null;
  const parts = [
    event.source ? event.source.text : '(actor not named)',
    `${what} · ${event.label}`,
    event.target ? event.target.text : null,
    event.location ? `in ${event.location.text}` : null,
    when,
  ].filter((p) => p);
  return parts.join(' — ');
}

function renderEvents(events, note) {
  const list = $('#events');
  list.replaceChildren();
  if (!events.length) { list.append(el('li', { class: 'hint' }, note || 'No event.')); return; }
  events.forEach((event, index) => {
    const main = event.evidence[0];
    const title = `Show the evidence (CAMEO ${event.cameo}, PLOVER ${event.type}${event.attribution ? '; according to ' + event.attribution : ''})`;
    const button = el('button', { type: 'button', 'aria-pressed': 'false', 'data-event': String(index), 'data-type': event.type, title },
      el('span', { class: 'tag-label' }, eventRow(event)),
      el('span', { class: 'badge ' + event.status }, event.status.replace('_', ' ')),
      el('span', { class: 'score' }, event.confidence.toFixed(2)));
    if (event.low_confidence_evidence) button.append(el('span', { class: 'badge low' }, 'check translation'));
    button.addEventListener('click', () => {
      const wasPressed = button.getAttribute('aria-pressed') === 'true';
      clearEvidence();
      if (wasPressed) return;
      const spans = event.evidence.flatMap((e) => [...evidenceSpans({ evidence: e.text, evidence_source: e.source })]);
      for (const span of spans) span.classList.add('evidence');
      button.setAttribute('aria-pressed', 'true');
      if (spans.length) spans[0].scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    });
    list.append(el('li', {}, button));
  });
}

function renderTags(tags) {
  const list = $('#tags');
  list.replaceChildren();
  if (!tags.length) { list.append(el('li', { class: 'hint' }, 'No event.')); return; }
  for (const tag of tags) {
    const button = el('button', { type: 'button', 'aria-pressed': 'false', 'data-tag': tag.id, title: `Show the evidence (CAMEO ${tag.cameo}${tag.plover ? ', PLOVER ' + tag.plover : ''})` },
      el('span', { class: 'tag-label' }, tag.label),
      el('span', { class: 'badge ' + tag.status }, tag.status),
      el('span', { class: 'score' }, tag.score.toFixed(2)));
    button.addEventListener('click', () => {
      const wasPressed = button.getAttribute('aria-pressed') === 'true';
      clearEvidence();
      if (wasPressed) return;
      const spans = evidenceSpans(tag);
      for (const span of spans) span.classList.add('evidence');
      button.setAttribute('aria-pressed', 'true');
      if (spans.length) spans[spans.length - 1].scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    });
    list.append(el('li', {}, button));
  }
}

/** Headings of the entity types (spaCy/CoNLL labels). */
const TYPE_NAMES = { PERSON: 'People', ORG: 'Organisations', GPE: 'Countries, cities, states', LOC: 'Places', MISC: 'Other' };
const TYPE_ORDER = ['PERSON', 'ORG', 'GPE', 'LOC', 'MISC'];

function renderEntities(entities) {
  const box = $('#entities');
  box.replaceChildren();
  if (!entities.length) { box.append(el('p', { class: 'hint' }, 'No entity found.')); return; }
  const groups = new Map();
  for (const entity of entities) {
    if (!groups.has(entity.type)) groups.set(entity.type, []);
    groups.get(entity.type).push(entity);
  }
  const rank = (type) => (TYPE_ORDER.indexOf(type) + TYPE_ORDER.length + 1) % (TYPE_ORDER.length + 1);
  for (const [type, members] of [...groups].sort((a, b) => rank(a[0]) - rank(b[0]))) {
    const name = TYPE_NAMES[type] || type;
    box.append(el('h3', {}, name), el('ul', { 'data-type': type }, ...members.map((e) => el('li', {}, e.text, ' ', el('span', { class: 'count' }, `×${e.mentions}`)))));
  }
}

function renderAnalysis(state) {
  const { analysis } = state;
  $('#summary').textContent = analysis.summary || '(empty summary)';
  const info = analysis.summary_info;
  $('#summary-info').textContent = info.mode === 'extractive'
    ? `Extractive: key sentences ${info.sentences.map((i) => i + 1).join(', ')} of the article.`
    : `Abstractive${analysis.models.summarizer ? ', by ' + analysis.models.summarizer : ''}${info.parts > 1 ? `, from ${info.parts} parts of the article` : ''}.`;
  renderEvents(analysis.events || [], analysis.events_note);
  renderTags(analysis.tags);
  renderEntities(analysis.entities);
  const warnings = $('#warnings');
  warnings.replaceChildren(...analysis.warnings.map((w) => el('li', {}, w)));
  renderTexts(state);
  const t = analysis.timings;
  $('#timings').textContent = `Translation ${seconds(t.translation_ms)} · summary ${seconds(t.summary_ms)} · tags ${seconds(t.tags_ms)} · entities ${seconds(t.entities_ms)} · total ${seconds(t.total_ms)}` +
    (analysis.models.translation ? ` · translated by ${analysis.models.translation}` : '');
  $('#results').hidden = false;
}

function englishText({ article, analysis }) {
  return analysis.translation ? analysis.translation.text : article;
}

function markdown(state) {
  const { analysis } = state;
  const lines = ['# Article brief', '', '## Summary', '', analysis.summary, '', '## Events', ''];
  if (!(analysis.events || []).length) lines.push(analysis.events_note || '(none)');
  for (const event of analysis.events || []) lines.push(`- ${eventRow(event)} — ${event.status} (confidence ${event.confidence.toFixed(2)}): ${event.evidence[0].text}`);
  lines.push('', '## Event tags', '');
  if (!analysis.tags.length) lines.push('(none)');
  for (const tag of analysis.tags) lines.push(`- **${tag.label}** (${tag.status}, score ${tag.score.toFixed(2)}): ${tag.evidence}`);
  lines.push('', '## Entities', '');
  if (!analysis.entities.length) lines.push('(none)');
  for (const entity of analysis.entities) lines.push(`- ${entity.text} (${entity.type}, ${entity.mentions} mention${entity.mentions === 1 ? '' : 's'})`);
  if (analysis.warnings.length) {
    lines.push('', '## Warnings', '');
    for (const warning of analysis.warnings) lines.push('- ' + warning);
  }
  lines.push('', '## English text', '', englishText(state));
  if (analysis.translation) lines.push('', '## Original (French)', '', state.article);
  return lines.join('\n') + '\n';
}

async function copied(what, text) {
  const ok = await copyText(text);
  $('#copy-feedback').textContent = ok ? `${what} copied.` : `Could not copy the ${what.toLowerCase()}: select it and copy by hand.`;
}

function setUpAnalyse() {
  $('#analyse-form').addEventListener('submit', analyse);
  $('#analyse-cancel').addEventListener('click', () => running && running.abort());
  $('#article').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) $('#analyse-form').requestSubmit();
  });
  $('#article').addEventListener('input', updateCount);
  const area = $('#article');
  area.addEventListener('dragover', (event) => { event.preventDefault(); area.classList.add('dragging'); });
  area.addEventListener('dragleave', () => area.classList.remove('dragging'));
  area.addEventListener('drop', async (event) => {
    area.classList.remove('dragging');
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (!file) return;
    event.preventDefault();
    if (file.type && !file.type.startsWith('text/')) {
      showError($('#error'), `“${file.name}” is not a text file: drop a plain-text (.txt) article.`);
      return;
    }
    area.value = await file.text();
    updateCount();
  });
  setUpSentenceLinks($('#original'));
  setUpSentenceLinks($('#translation'));
  $('#copy-translation').addEventListener('click', () => current && copied('Translation', englishText(current)));
  $('#copy-summary').addEventListener('click', () => current && copied('Summary', current.analysis.summary));
  $('#copy-markdown').addEventListener('click', () => current && copied('Brief', markdown(current)));
  $('#download-json').addEventListener('click', () => {
    if (!current) return;
    download(`analysis-${stamp()}.json`, new Blob([JSON.stringify(current.analysis, null, 2) + '\n'], { type: 'application/json' }));
  });
}

// ---------------------------------------------------------------------------------------------
// Jobs

const ACTIVE = new Set(['queued', 'running']);

async function startJob(event) {
  event.preventDefault();
  const errorBox = $('#job-error');
  showError(errorBox, '');
  const file = $('#job-file').files[0];
  const body = file ? await file.text() : $('#job-lines').value;
  if (!body.trim()) {
    showError(errorBox, 'Choose a JSONL file or paste some lines first.');
    return;
  }
  const task = $('#job-task').value;
  $('#job-start').disabled = true;
  try {
    const created = await api('/v1/jobs?task=' + encodeURIComponent(task), { method: 'POST', body, contentType: 'application/x-ndjson' });
    $('#job-created').textContent = `Job ${created.id} started: ${created.total} item${created.total === 1 ? '' : 's'}` +
      (created.rejected ? `, ${created.rejected} line${created.rejected === 1 ? '' : 's'} rejected as unreadable (see its results).` : '.');
    $('#job-file').value = '';
    $('#job-lines').value = '';
    await refreshJobs();
  } catch (error) {
    showError(errorBox, error.message);
  } finally {
    $('#job-start').disabled = false;
  }
}

async function downloadResults(job) {
  try {
    const response = await api(`/v1/jobs/${job.id}/results`, { raw: true });
    download(`job-${job.id}-${job.task}.jsonl`, await response.blob());
  } catch (error) {
    showError($('#job-error'), error.message);
  }
}

async function cancelJob(job, button) {
  button.disabled = true;
  try {
    await api(`/v1/jobs/${job.id}`, { method: 'DELETE' });
    await refreshJobs();
  } catch (error) {
    showError($('#job-error'), error.message);
    button.disabled = false;
  }
}

/** The table row of a job, created on first sight and updated in place (focus survives polls). */
function jobRow(job) {
  const body = $('#jobs-table tbody');
  let row = body.querySelector(`tr[data-job="${job.id}"]`);
  if (!row) {
    row = el('tr', { 'data-job': job.id },
      el('td', {}, '#' + job.id), el('td', { class: 'job-task' }), el('td', { class: 'job-state' }),
      el('td', {}, el('progress', { max: 1, 'aria-label': `Job ${job.id} progress` }), ' ', el('span', { class: 'job-percent' })),
      el('td', { class: 'job-counts' }), el('td', { class: 'job-rate' }), el('td', { class: 'job-eta' }),
      el('td', { class: 'job-actions' },
        el('button', { type: 'button', class: 'job-cancel', 'aria-label': `Cancel job ${job.id}` }, 'Cancel'), ' ',
        el('button', { type: 'button', class: 'job-download', 'aria-label': `Download the results of job ${job.id}` }, 'Download results')));
    $('.job-cancel', row).addEventListener('click', (e) => cancelJob(row.job, e.currentTarget));
    $('.job-download', row).addEventListener('click', () => downloadResults(row.job));
    // Newest first: a new job goes above the ones already shown.
    const after = [...body.rows].find((r) => Number(r.dataset.job) < job.id);
    body.insertBefore(row, after || null);
  }
  row.job = job;
  const c = job.counts;
  $('.job-task', row).textContent = job.task;
  const state = $('.job-state', row);
  state.textContent = job.state + (job.error ? ': ' + job.error : '');
  state.className = 'job-state state-' + job.state;
  $('progress', row).value = job.progress;
  $('.job-percent', row).textContent = Math.floor(job.progress * 100) + ' %';
  $('.job-counts', row).textContent = `${c.done} / ${c.failed} / ${c.total}`;
  $('.job-rate', row).textContent = job.rate ? `${job.rate.toFixed(job.rate < 10 ? 2 : 0)} items/s` : '—';
  $('.job-eta', row).textContent = ACTIVE.has(job.state) && job.eta_seconds !== undefined ? duration(job.eta_seconds) : '—';
  $('.job-cancel', row).hidden = !ACTIVE.has(job.state);
  const download = $('.job-download', row);
  download.hidden = c.done + c.failed === 0;
  download.textContent = ACTIVE.has(job.state) ? 'Download so far' : 'Download results';
}

let jobsTimer = null;

async function refreshJobs() {
  clearTimeout(jobsTimer);
  try {
    const list = await api('/v1/jobs?limit=50');
    $('#jobs-empty').textContent = 'No jobs yet.';
    $('#jobs-empty').hidden = list.jobs.length > 0;
    $('#jobs-table').hidden = list.jobs.length === 0;
    for (const job of list.jobs) jobRow(job);
  } catch (error) {
    $('#jobs-empty').hidden = false;
    $('#jobs-empty').textContent = error.message;
  }
  if (!$('#panel-jobs').hidden) jobsTimer = setTimeout(refreshJobs, JOBS_POLL_MS);
}

function setUpJobs() {
  $('#job-form').addEventListener('submit', startJob);
}

// ---------------------------------------------------------------------------------------------
// Status line: models loaded, queue depth, version.

let statusTimer = null;

async function refreshStatus() {
  clearTimeout(statusTimer);
  const line = $('#status-line');
  try {
    const status = await api('/v1/status');
    limits = status.limits;
    lastStatus = status;
    updateCount();
    const parts = [];
    if (status.status === 'ok') parts.push('Ready');
    else if (status.status === 'loading') parts.push('Loading models…');
    else parts.push('Model failed to load: ' + (status.detail || 'see the server log'));
    if (status.models.length) parts.push(status.models.map((m) => `${m.task}: ${m.source}`).join(' · '));
    if (status.queue) parts.push(`queue: ${status.queue.sentences} sentence${status.queue.sentences === 1 ? '' : 's'}, ${status.queue.analyses} analys${status.queue.analyses === 1 ? 'is' : 'es'}`);
    if (status.jobs) parts.push(`jobs: ${status.jobs.running} running, ${status.jobs.queued} queued`);
    parts.push('dragoman ' + status.version);
    line.textContent = parts.join(' — ');
    line.dataset.state = status.status;
  } catch (error) {
    line.textContent = error.message;
    line.dataset.state = 'unreachable';
  }
  statusTimer = setTimeout(refreshStatus, STATUS_POLL_MS);
}

function setUpSettings() {
  const input = $('#api-key');
  input.value = apiKey();
  input.addEventListener('change', () => {
    try { localStorage.setItem(KEY_STORAGE, input.value.trim()); } catch (_) { /* private mode */ }
    refreshStatus();
  });
}

document.addEventListener('DOMContentLoaded', () => {
  setUpSettings();
  setUpAnalyse();
  setUpJobs();
  setUpTabs();
  refreshStatus();
});
