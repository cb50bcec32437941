/**
 * The viewer's page. Everything it loads comes from this server (`/style.css`, `/app/*.js`,
 * `/api/*`): no CDN, no font service, nothing fetched from elsewhere at run time.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lungflow viewer</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header><h1>lungflow viewer</h1><span id="store"></span></header>
<div id="error" role="alert" hidden></div>
<main>
<section id="list">
  <input id="filter" type="search" placeholder="filter: id, split, warning..." aria-label="filter patients">
  <table id="patients"><thead><tr>
    <th data-key="id">id</th><th data-key="label">label</th><th data-key="split">split</th>
    <th data-key="prediction">prediction</th><th data-key="lungVolumeMl">lung mL</th>
    <th data-key="warnings">warnings</th>
  </tr></thead><tbody></tbody></table>
  <p id="count"></p>
</section>
<section id="viewer" hidden>
  <div id="controls">
    <strong id="patient-id"></strong>
    <label>window <select id="preset">
      <option value="lung">lung (W1500 L-600)</option>
      <option value="mediastinum">mediastinum (W350 L40)</option>
      <option value="bone">bone (W2000 L300)</option>
    </select></label>
    <label>mask <input id="mask-opacity" type="range" min="0" max="1" step="0.05" value="0.4"></label>
    <label>features <select id="encoder"><option value="">none</option></select></label>
    <label>feature opacity <input id="feature-opacity" type="range" min="0" max="1" step="0.05" value="0.5"></label>
  </div>
  <div id="planes">
    <figure><canvas id="axial" tabindex="0"></canvas><figcaption>axial <span class="idx"></span></figcaption></figure>
    <figure><canvas id="coronal" tabindex="0"></canvas><figcaption>coronal <span class="idx"></span></figcaption></figure>
    <figure><canvas id="sagittal" tabindex="0"></canvas><figcaption>sagittal <span class="idx"></span></figcaption></figure>
  </div>
  <dl id="probe">
    <dt>voxel [z,y,x]</dt><dd id="voxel"></dd>
    <dt>world LPS (mm)</dt><dd id="world"></dd>
    <dt>HU</dt><dd id="hu"></dd>
    <dt>mask</dt><dd id="maskv"></dd>
  </dl>
  <p class="hint">wheel or arrow keys: scroll a plane; click: move the crosshair</p>
</section>
</main>
<script type="module" src="/app/main.js"></script>
</body>
</html>
`;

export const PAGE_CSS = `
body { font: 14px system-ui, sans-serif; margin: 0; background: #111; color: #ddd; }
header { display: flex; gap: 1em; align-items: baseline; padding: 0.4em 1em; background: #222; }
h1 { font-size: 1.1em; margin: 0; }
#error { background: #7a1010; color: #fff; padding: 0.6em 1em; white-space: pre-wrap; }
main { display: flex; gap: 1em; padding: 0.5em 1em; align-items: flex-start; }
#list { flex: 0 0 34em; max-height: 92vh; overflow: auto; }
#filter { width: 100%; margin-bottom: 0.4em; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 0.15em 0.4em; border-bottom: 1px solid #333; text-align: left; }
th { cursor: pointer; user-select: none; position: sticky; top: 0; background: #1b1b1b; }
th.asc::after { content: " \\25B2"; } th.desc::after { content: " \\25BC"; }
tbody tr { cursor: pointer; } tbody tr:hover { background: #2a2a2a; }
tbody tr.selected { background: #24425e; } tr.problem td { color: #f88; }
#viewer { flex: 1; }
#controls { display: flex; flex-wrap: wrap; gap: 1em; align-items: center; margin-bottom: 0.5em; }
#planes { display: flex; flex-wrap: wrap; gap: 0.5em; }
figure { margin: 0; } figcaption { font-size: 0.85em; color: #aaa; }
canvas { background: #000; image-rendering: pixelated; max-width: 32vw; outline: none; }
canvas:focus { box-shadow: 0 0 0 2px #3a7; }
#probe { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 1em; }
#probe dd { margin: 0; font-family: monospace; }
.hint { color: #888; font-size: 0.85em; }
`;
