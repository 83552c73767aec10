// moldojo serve: the explorer page. Plain DOM, no framework; server text only ever goes in via textContent.
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TABS = ["sample", "interpolate", "neighbours", "motifs", "optimize"];

  // ---------------------------------------------------------------- helpers
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function svgEl(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text != null) e.textContent = text;
    return e;
  }

  const fmt = (x, d) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d).replace(/^-(0\.?0*)$/, "$1") : "–");
  const f2 = (x) => fmt(x, 2);
  const f3 = (x) => fmt(x, 3);

  // UTF-8-safe base64 (btoa alone only takes Latin-1).
  function b64(text) {
    const bytes = new TextEncoder().encode(text);
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(bin);
  }

  let busy = 0;
  function setBusy(delta) {
    busy = Math.max(0, busy + delta);
    document.body.dataset.busy = busy > 0 ? "1" : "0";
  }

  // JSON request; a non-2xx answer throws its {"error": ...} message.
  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    let res;
    try { res = await fetch(path, opts); } catch (e) { throw new Error("cannot reach the server: " + e.message); }
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) throw new Error((data && typeof data.error === "string" && data.error) || `HTTP ${res.status} ${res.statusText}`);
    if (data === null || typeof data !== "object") throw new Error("the server's answer is not JSON");
    return data;
  }

  const labelOf = (id) => ($(id).closest("label")?.firstChild?.textContent || id).trim();

  function num(id, integer) {
    const raw = $(id).value.trim();
    const x = Number(raw);
    if (raw === "" || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
      throw new Error(`${labelOf(id)} must be ${integer ? "a whole number" : "a number"}`);
    }
    return x;
  }
  const optText = (id) => $(id).value.trim() || null;
  function needText(id) {
    const v = optText(id);
    if (!v) throw new Error(`${labelOf(id)} is required`);
    return v;
  }

  // Run one panel request: button disabled + "working…" while it runs, errors into the panel's error line.
  async function run(prefix, fn) {
    const btn = $(prefix + "-run"), err = $(prefix + "-error"), work = $(prefix + "-working");
    if (btn.disabled) return;
    err.textContent = "";
    btn.disabled = true;
    work.hidden = false;
    setBusy(1);
    try { await fn(); } catch (e) { err.textContent = e.message || String(e); } finally {
      btn.disabled = false;
      work.hidden = true;
      setBusy(-1);
    }
  }

  function showTab(name) {
    for (const t of TABS) {
      const on = t === name;
      $("tab-" + t).setAttribute("aria-selected", String(on));
      $("tab-" + t).classList.toggle("active", on);
      $("panel-" + t).hidden = !on;
    }
  }

  // A molecule card: drawing, SMILES, properties (or why it failed), extra lines, a "Neighbours" link.
  function card(m, extra) {
    const c = el("div", "card" + (m.valid ? "" : " invalid"));
    if (m.valid && typeof m.svg === "string") {
      const img = el("img");
      // RDKit declares encoding='iso-8859-1'; drop the declaration so the UTF-8 bytes are read as UTF-8.
      img.src = "data:image/svg+xml;base64," + b64(m.svg.replace(/^\s*<\?xml[^>]*\?>/, ""));
      img.alt = m.smiles || "molecule";
      img.width = 200;
      img.height = 160;
      c.append(img);
    } else {
      c.append(el("div", "noimg", m.valid ? "no drawing" : "no molecule"));
    }
    c.append(el("div", "smiles", m.smiles || "—"));
    c.append(el("div", "props", m.valid
      ? `QED ${f2(m.qed)} · logP ${f2(m.logp)} · SA ${f2(m.sa)}`
      : `invalid (${m.reason || "unknown"})`));
    for (const line of extra || []) c.append(el("div", "extra", line));
    if (m.valid && m.smiles) {
      const a = el("a", "neigh-link", "Neighbours");
      a.href = "#";
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        ev.stopPropagation();
        $("neigh-smiles").value = m.smiles;
        showTab("neighbours");
        $("neigh-run").focus();
      });
      c.append(a);
    }
    return c;
  }

  function download(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = el("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }

  const csvField = (v) => (v == null ? "" : /[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

  // ----------------------------------------------------------------- sample
  let samples = [];
  let selected = []; // indices into samples, oldest first, at most two

  function markSelected() {
    for (const c of $("sample-results").children) c.classList.toggle("selected", selected.includes(Number(c.dataset.index)));
    $("sample-interpolate-selected").disabled = selected.length !== 2;
  }

  function toggleSelect(i) {
    if (String(window.getSelection() || "")) return; // the user is selecting text, not the card
    if (selected.includes(i)) selected = selected.filter((j) => j !== i);
    else selected = [...selected, i].slice(-2);
    markSelected();
  }

  $("sample-run").addEventListener("click", () => run("sample", async () => {
    const scaffold = $("sample-scaffold");
    const r = await api("/api/sample", {
      n: num("sample-n", true),
      seed: num("sample-seed", true),
      temperature: num("sample-temperature"),
      scaffold: scaffold.disabled ? null : optText("sample-scaffold"),
    });
    samples = Array.isArray(r.molecules) ? r.molecules : [];
    selected = [];
    $("sample-results").replaceChildren(...samples.map((m, i) => {
      const c = card(m);
      c.dataset.index = String(i);
      if (m.valid && m.smiles) {
        c.classList.add("selectable");
        c.tabIndex = 0;
        c.addEventListener("click", () => toggleSelect(i));
        c.addEventListener("keydown", (ev) => { if (ev.key === " ") { ev.preventDefault(); toggleSelect(i); } });
      }
      return c;
    }));
    let s = `${samples.length} molecules: ${r.valid} valid, ${r.unique} unique`;
    if (r.scaffold_kept != null) s += `, scaffold kept in ${r.scaffold_kept}`;
    $("sample-summary").textContent = s;
    $("sample-download-smiles").disabled = $("sample-download-csv").disabled = samples.length === 0;
    markSelected();
  }));

  $("sample-download-smiles").addEventListener("click", () => {
    const lines = samples.map((m) => (m.valid && m.smiles ? m.smiles : ""));
    download("samples.smi", lines.join("\n") + "\n", "text/plain");
  });

  $("sample-download-csv").addEventListener("click", () => {
    const rows = ["smiles,valid,qed,logp,sa"];
    for (const m of samples) rows.push([m.smiles, m.valid ? "true" : "false", m.qed, m.logp, m.sa].map(csvField).join(","));
    download("samples.csv", rows.join("\n") + "\n", "text/csv");
  });

  $("sample-interpolate-selected").addEventListener("click", () => {
    if (selected.length !== 2) return;
    $("interp-a").value = samples[selected[0]].smiles;
    $("interp-b").value = samples[selected[1]].smiles;
    showTab("interpolate");
    $("interp-run").focus();
  });

  // ------------------------------------------------------------ interpolate
  $("interp-run").addEventListener("click", () => run("interp", async () => {
    const r = await api("/api/interpolate", {
      a: needText("interp-a"),
      b: needText("interp-b"),
      steps: num("interp-steps", true),
      path: $("interp-path").value,
    });
    const steps = Array.isArray(r.steps) ? r.steps : [];
    $("interp-results").replaceChildren(...steps.map((s, i) => {
      const c = card(s, [`sim A ${f2(s.sim_a)} / sim B ${f2(s.sim_b)}`, `t ${f2(s.t)}`]);
      if (i === 0 || i === steps.length - 1) c.classList.add("endpoint");
      return c;
    }));
    $("interp-summary").textContent =
      `${r.changes} moves changed the molecule, mean consecutive similarity ${f2(r.mean_similarity)}`;
  }));

  // ------------------------------------------------------------- neighbours
  $("neigh-run").addEventListener("click", () => run("neigh", async () => {
    const r = await api("/api/neighbours", {
      smiles: needText("neigh-smiles"),
      n: num("neigh-n", true),
      radius: num("neigh-radius"),
      seed: num("neigh-seed", true),
    });
    const query = card(r.query, ["query"]);
    query.classList.add("query");
    const neighbours = Array.isArray(r.neighbours) ? r.neighbours : [];
    $("neigh-results").replaceChildren(query, ...neighbours.map((m) => card(m, [`similarity ${f2(m.similarity)}`])));
    $("neigh-summary").textContent = `${neighbours.length} neighbours: ${r.valid} valid, ${r.unique} unique`;
  }));

  // ----------------------------------------------------------------- motifs
  $("motif-run").addEventListener("click", () => run("motif", async () => {
    const r = await api("/api/motifs", { smiles: needText("motif-smiles") });
    if (typeof r.png !== "string" || !/^[A-Za-z0-9+/=\s]*$/.test(r.png)) throw new Error("the server sent no picture");
    const img = $("motif-image");
    img.src = "data:image/png;base64," + r.png.replace(/\s/g, "");
    img.hidden = false;
    $("motif-tree").textContent = (Array.isArray(r.tree) ? r.tree : []).join("\n");
  }));

  // --------------------------------------------------------------- optimise
  let job = null, source = null, running = false;

  function optStatus(state, text) {
    const s = $("opt-status");
    s.dataset.state = state;
    s.textContent = text;
  }

  function syncTarget() {
    const on = $("opt-objective").value === "similarity";
    $("opt-target").disabled = !on;
    $("opt-target").closest("label").hidden = !on;
  }
  $("opt-objective").addEventListener("change", syncTarget);

  function optBody() {
    let objective = $("opt-objective").value;
    if (objective === "similarity") objective += ":" + needText("opt-target");
    const minSim = $("opt-min-sim").value.trim();
    return {
      objective,
      method: $("opt-method").value,
      budget: num("opt-budget", true),
      batch: num("opt-batch", true),
      seed: num("opt-seed", true),
      start: optText("opt-start"),
      min_similarity: minSim === "" ? null : num("opt-min-sim"),
    };
  }

  const lastBest = (best) => [...(best || [])].reverse().find((v) => typeof v === "number" && Number.isFinite(v));

  // Best-so-far line plot: x = oracle calls, y = best score, nulls skipped.
  function plot(best, budget) {
    const W = 560, H = 240, L = 60, R = 16, T = 14, B = 38;
    const pts = [];
    best.forEach((v, i) => { if (typeof v === "number" && Number.isFinite(v)) pts.push([i + 1, v]); });
    const xmax = Math.max(budget || 0, best.length, 1);
    let ymin = 0, ymax = 1;
    if (pts.length) {
      ymin = Math.min(...pts.map((p) => p[1]));
      ymax = Math.max(...pts.map((p) => p[1]));
      if (ymin === ymax) { const d = Math.abs(ymin) * 0.05 || 0.5; ymin -= d; ymax += d; }
    }
    const X = (x) => L + (x / xmax) * (W - L - R);
    const Y = (y) => T + (1 - (y - ymin) / (ymax - ymin)) * (H - T - B);
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": "best score so far" });
    svg.append(
      svgEl("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }),
      svgEl("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }),
      svgEl("text", { x: L - 6, y: T + 4, "text-anchor": "end" }, pts.length ? f3(ymax) : ""),
      svgEl("text", { x: L - 6, y: H - B, "text-anchor": "end" }, pts.length ? f3(ymin) : ""),
      svgEl("text", { x: L, y: H - B + 16, "text-anchor": "middle" }, "0"),
      svgEl("text", { x: W - R, y: H - B + 16, "text-anchor": "end" }, String(xmax)),
      svgEl("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", class: "title" }, "oracle calls"),
      svgEl("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle", class: "title",
        transform: `rotate(-90 14 ${(T + H - B) / 2})` }, "best so far"),
    );
    if (pts.length === 1) svg.append(svgEl("circle", { cx: X(pts[0][0]), cy: Y(pts[0][1]), r: 3, class: "dot" }));
    if (pts.length > 1) {
      svg.append(svgEl("polyline", { points: pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(" "), class: "line" }));
    }
    $("opt-plot").replaceChildren(svg);
  }

  function onRound(d) {
    const best = Array.isArray(d.best) ? d.best : [];
    optStatus("running", `${d.calls} / ${d.budget}, best ${f3(lastBest(best))}`);
    plot(best, d.budget);
    $("opt-top").replaceChildren(...(Array.isArray(d.top) ? d.top : []).map((m) => card(m, [`score ${f3(m.score)}`])));
  }

  function finish(state, text) {
    if (!running) return;
    running = false;
    if (source) { source.close(); source = null; }
    job = null;
    optStatus(state, text);
    if (state === "error") $("opt-error").textContent = text;
    $("opt-run").disabled = false;
    $("opt-cancel").disabled = true;
    $("opt-working").hidden = true;
    setBusy(-1);
  }

  function onDone(d) {
    const s = d.summary || {};
    const best = s.best_score != null ? `, best ${f3(s.best_score)}${s.best_smiles ? " " + s.best_smiles : ""}` : "";
    const calls = s.oracle_calls != null ? `: ${s.oracle_calls} oracle calls` : "";
    if (d.status === "done" || d.status === "cancelled") finish(d.status, d.status + calls + best);
    else finish("error", d.message || "the optimisation failed");
  }

  const parsed = (handler) => (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch (e) { finish("error", "unreadable event from the server"); return; }
    handler(d);
  };

  $("opt-run").addEventListener("click", async () => {
    if (running) return;
    $("opt-error").textContent = "";
    let body;
    try { body = optBody(); } catch (e) { $("opt-error").textContent = e.message; return; }
    running = true;
    setBusy(1);
    $("opt-run").disabled = true;
    $("opt-working").hidden = false;
    $("opt-plot").replaceChildren();
    $("opt-top").replaceChildren();
    optStatus("running", "starting…");
    try {
      job = (await api("/api/optimize", body)).job;
      if (typeof job !== "string" || !job) throw new Error("the server returned no job id");
    } catch (e) { finish("error", e.message); return; }
    $("opt-cancel").disabled = false;
    source = new EventSource("/api/optimize/" + encodeURIComponent(job) + "/events");
    source.addEventListener("round", parsed(onRound));
    source.addEventListener("done", parsed(onDone));
    source.addEventListener("error", (ev) => {
      let msg = "lost the connection to the server";
      if (typeof ev.data === "string") { try { msg = JSON.parse(ev.data).message || msg; } catch (e) { msg = ev.data || msg; } }
      finish("error", msg);
    });
  });

  $("opt-cancel").addEventListener("click", async () => {
    if (!job) return;
    $("opt-cancel").disabled = true;
    $("opt-status").textContent += " (cancelling…)";
    try { await api("/api/optimize/" + encodeURIComponent(job) + "/cancel", {}); } catch (e) {
      $("opt-error").textContent = e.message;
      if (running) $("opt-cancel").disabled = false;
    }
  });

  // ------------------------------------------------------------ page wiring
  for (const t of TABS) $("tab-" + t).addEventListener("click", () => showTab(t));

  // Enter in any input runs its panel's button.
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || ev.isComposing || ev.target.tagName !== "INPUT") return;
    const panel = ev.target.closest("section.panel");
    const btn = panel && $(panel.dataset.run);
    if (!btn) return;
    ev.preventDefault();
    if (!btn.disabled) btn.click();
  });

  function fillSelect(id, values) {
    if (!Array.isArray(values) || !values.length) return;
    const sel = $(id), keep = sel.value;
    const names = [...new Set(values.map((v) => String(v).split(":")[0]))];
    sel.replaceChildren(...names.map((n) => { const o = el("option", null, n); o.value = n; return o; }));
    if (names.includes(keep)) sel.value = keep;
  }

  async function loadInfo() {
    try {
      const info = await api("/api/info");
      $("model-info").textContent = `${info.kind} · ${info.model} · latent dim ${info.latent_dim}`;
      $("version").textContent = info.version || "";
      if (!info.scaffold) {
        const s = $("sample-scaffold");
        s.value = "";
        s.disabled = true;
        s.closest("label").hidden = true;
      }
      const lim = info.limits || {};
      const setMax = (id, v) => { if (Number.isFinite(v)) $(id).max = String(v); };
      setMax("sample-n", lim.sample_n);
      setMax("interp-steps", lim.steps);
      setMax("neigh-n", lim.neighbours_n);
      setMax("opt-budget", lim.budget);
      setMax("opt-batch", lim.batch);
      if (Number.isFinite(lim.smiles_chars)) {
        for (const i of document.querySelectorAll("input[type=text]")) i.maxLength = lim.smiles_chars;
      }
      fillSelect("opt-objective", info.objectives);
      fillSelect("opt-method", info.methods);
      syncTarget();
      document.body.dataset.info = "1";
    } catch (e) {
      $("info-error").textContent = "cannot read the model info: " + e.message;
      document.body.dataset.info = "error";
    }
  }

  document.body.dataset.busy = "0";
  syncTarget();
  loadInfo();
})();
