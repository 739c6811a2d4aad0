/* The analyse page: input -> the API's prediction routes -> rows, timeline, shares; corrections
   -> POST /feedback. Long results render in chunks, one animation frame each, so an 800-row
   transcript never blocks the page. */
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const { el, svg } = App;
  const CHUNK = 60; // rows per animation frame
  const EXAMPLE = "1\n00:00:01,000 --> 00:00:03,200\nI can't believe we actually won the final!\n\n" +
    "2\n00:00:03,400 --> 00:00:06,000\nHonestly I was terrified we would lose in the last minute.\n\n" +
    "3\n00:00:06,500 --> 00:00:09,000\nThe referee's decision was a disgrace.\n\n" +
    "4\n00:00:09,200 --> 00:00:12,000\nWe will meet again next week to plan the season.\n";

  const view = { rows: [], meta: null, shown: [], renderToken: 0, busy: false };

  function setStatus(text, kind) {
    const status = $("status");
    status.textContent = text || "";
    status.className = "status" + (kind ? " " + kind : "");
  }

  function busy(on, text) {
    view.busy = on;
    for (const id of ["analyse", "fetch-url", "file", "example"]) $(id).disabled = on;
    if (on) setStatus(text, "working");
  }

  /* ---- input ---- */

  function looksLikeTranscript(text) {
    const head = text.trimStart();
    if (head.startsWith("WEBVTT")) return "vtt";
    if (/\d{1,2}:\d{2}(:\d{2})?[,.]\d{1,3}\s*-->/.test(text)) return "srt";
    if (head.startsWith("{")) {
      try { if (Array.isArray(JSON.parse(head).segments)) return "json"; } catch (err) { return null; }
    }
    return null;
  }

  function sentences(text) {
    const out = [];
    for (const line of text.split(/\n+/)) {
      const parts = line.match(/[^.!?…]+(?:[.!?…]+["'”’)]*|$)/g) || [];
      for (const p of parts) if (p.trim()) out.push(p.trim());
    }
    return out;
  }

  async function analyseText(text, sourceName) {
    const kind = looksLikeTranscript(text);
    if (kind) {
      const type = kind === "json" ? "application/json" : kind === "vtt" ? "text/vtt" : "application/x-subrip";
      busy(true, "Analysing the transcript…");
      const res = await App.request("/predict/transcript", { method: "POST", headers: { "Content-Type": type }, body: text });
      return fromSegments(res.body, sourceName, kind.toUpperCase());
    }
    const texts = sentences(text);
    if (!texts.length) throw new Error("There is no text to analyse: type or paste some first.");
    const limit = App.config.limits.batch_limit;
    busy(true, "Analysing " + texts.length + " sentence" + (texts.length === 1 ? "" : "s") + "…");
    const predictions = [];
    let version = null;
    for (let i = 0; i < texts.length; i += limit) {
      const res = await App.request("/predict/batch", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ texts: texts.slice(i, i + limit) }),
      });
      version = res.body.model_version;
      predictions.push(...res.body.predictions);
    }
    const rows = texts.map((t, i) => row(i, null, null, t, predictions[i]));
    return { rows, meta: { source: sourceName, format: "text", model_version: version, timed: false } };
  }

  function row(index, start, end, text, p) {
    return {
      index, start, end, text,
      emotion: p.emotion.label, emotion_confidence: p.emotion.confidence,
      sub_emotion: p.sub_emotion.label, sub_emotion_confidence: p.sub_emotion.confidence,
      intensity: p.intensity.label, intensity_confidence: p.intensity.confidence,
      correction: null, sent: null,
    };
  }

  function fromSegments(body, sourceName, format) {
    const rows = body.segments.map((s, i) => row(i, s.start, s.end, s.text, s));
    return {
      rows,
      meta: { source: sourceName, format, model_version: body.model_version, timed: true,
        skipped: body.skipped_empty || 0, media: body.media || null },
    };
  }

  async function analyseMedia(body, headers, sourceName) {
    const speech = App.config.speech;
    if (!speech.available) throw new Error("This server cannot transcribe audio or video: " + speech.hint);
    busy(true, "Transcribing " + sourceName + "… (speech to text runs on the server; a minute of audio takes a few seconds)");
    const res = await App.request("/predict/media", { method: "POST", headers, body });
    return fromSegments(res.body, sourceName, "speech");
  }

  async function run(job) {
    if (view.busy) return;
    // the focus leaves the text box for the Analyse button (the next stop for a keyboard
    // user): a focused text box holding a long transcript made every style update of the
    // rendering cost ~80 ms in Chromium 156 (5 x 200 ms stalls at 817 rows)
    if (document.activeElement === $("input")) $("analyse").focus();
    try {
      const started = performance.now();
      const result = await job();
      show(result);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      setStatus(result.rows.length + " sentence" + (result.rows.length === 1 ? "" : "s") + " analysed in " + seconds + " s.", "ok");
    } catch (err) {
      setStatus(err.message, "error");
    } finally {
      busy(false);
    }
  }

  function onFile(file) {
    const name = file.name;
    const isMedia = /^(audio|video)\//.test(file.type) || /\.(mp3|wav|m4a|mp4|ogg|oga|opus|flac|webm|mkv|mov|aac)$/i.test(name);
    if (isMedia) {
      const form = new FormData();
      form.append("file", file, name);
      run(() => analyseMedia(form, {}, name));
      return;
    }
    run(async () => {
      const text = await file.text();
      $("input").value = text.length <= 200000 ? text : "";
      return analyseText(text, name);
    });
  }

  /* ---- results ---- */

  function show(result) {
    performance.mark("results-arrived");
    view.rows = result.rows;
    view.meta = result.meta;
    $("results").hidden = false;
    $("receipt").hidden = true;
    const m = result.meta;
    const parts = [result.rows.length + " sentences", "from " + m.source, m.format, "model v" + (m.model_version || "?")];
    if (m.skipped) parts.push(m.skipped + " empty cue(s) skipped");
    if (m.media) parts.push(App.clock(m.media.duration_s) + " of audio, transcribed in " + m.media.transcribe_seconds.toFixed(1) + " s");
    $("summary").textContent = parts.join(" · ");
    drawShares();
    drawTimeline();
    updatePending();
    applyFilters();
  }

  function label(r, head) {
    return r.correction ? r.correction[head] : r[head];
  }

  function drawShares() {
    const counts = {};
    for (const r of view.rows) counts[label(r, "emotion")] = (counts[label(r, "emotion")] || 0) + 1;
    const total = view.rows.length || 1;
    const bar = $("share-bar"), legend = $("share-legend");
    bar.replaceChildren();
    legend.replaceChildren();
    const described = [];
    for (const e of App.EMOTIONS) {
      const n = counts[e] || 0;
      if (!n) continue;
      const part = el("span", { class: "emo-bg-" + e, title: e + ": " + n });
      part.style.width = (100 * n / total) + "%";
      bar.append(part);
      described.push(e + " " + App.pct(n / total));
      legend.append(el("li", {}, [el("span", { class: "swatch emo-bg-" + e }), el("span", { text: e }),
        el("b", { text: App.pct(n / total) }), el("span", { class: "muted", text: "(" + n + ")" })]));
    }
    bar.setAttribute("aria-label", "Share of each emotion: " + described.join(", "));
  }

  function drawTimeline() {
    const rows = view.rows, timed = view.meta.timed;
    const W = Math.max(360, Math.round($("timeline").clientWidth || 800)), lane = 15, top = 4, H = top + lane * App.EMOTIONS.length + 22;
    const first = timed ? Math.min(...rows.map((r) => r.start)) : 0;
    const last = timed ? Math.max(...rows.map((r) => r.end)) : rows.length;
    const span = Math.max(last - first, 1e-6);
    const G = 70; // the lanes' labels on the left
    const x = (t) => G + ((W - G) * (t - first)) / span;
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "timeline-svg", role: "img",
      "aria-label": "Emotion of each sentence over " + (timed ? "the recording" : "the text") });
    App.EMOTIONS.forEach((e, i) => {
      chart.append(svg("rect", { x: G, y: top + i * lane, width: W - G, height: lane - 2, class: "lane" }));
      chart.append(svg("text", { x: G - 6, y: top + i * lane + lane - 4, class: "lane-label", "text-anchor": "end", text: e }));
    });
    rows.forEach((r, i) => {
      const lo = timed ? r.start : i, hi = timed ? r.end : i + 1;
      const y = top + App.EMOTIONS.indexOf(label(r, "emotion")) * lane;
      const rect = svg("rect", { x: x(lo).toFixed(2), y, width: Math.max(x(hi) - x(lo), 1.5).toFixed(2),
        height: lane - 2, class: "seg emo-fill-" + label(r, "emotion") }, [svg("title", { text: (timed ? App.clock(r.start) + " " : "#" + (i + 1) + " ") + r.text })]);
      chart.append(rect);
    });
    for (let k = 0; k <= 4; k++) {
      const t = first + (span * k) / 4;
      chart.append(svg("text", { x: G + ((W - G) * k) / 4, y: H - 4, class: "axis",
        "text-anchor": k === 0 ? "start" : k === 4 ? "end" : "middle", text: timed ? App.clock(t) : "#" + Math.round(t) }));
    }
    $("timeline").replaceChildren(chart);
    $("timeline-caption").textContent = timed ? "Emotion timeline over the recording" : "Emotion of each sentence, in order";
  }

  function applyFilters() {
    const q = $("search").value.trim().toLowerCase();
    const emotion = $("filter-emotion").value, intensity = $("filter-intensity").value;
    const corrected = $("filter-corrected").checked;
    view.shown = view.rows.filter((r) =>
      (!q || r.text.toLowerCase().includes(q)) && (!emotion || label(r, "emotion") === emotion) &&
      (!intensity || label(r, "intensity") === intensity) && (!corrected || r.correction));
    $("shown").textContent = "Showing " + view.shown.length + " of " + view.rows.length;
    renderRows();
  }

  function renderRows() {
    const token = ++view.renderToken;
    const body = $("tbody");
    body.replaceChildren();
    let i = 0;
    const step = () => {
      if (token !== view.renderToken) return; // a newer filter started over
      const frag = document.createDocumentFragment();
      for (const end = Math.min(i + CHUNK, view.shown.length); i < end; i++) frag.append(renderRow(view.shown[i]));
      body.append(frag);
      if (i < view.shown.length) requestAnimationFrame(step);
      else {
        body.dataset.rendered = String(view.shown.length);
        performance.mark("rows-rendered"); // what the benchmark measures up to
      }
    };
    body.dataset.rendered = "";
    step();
  }

  function cell(props, children) { return el("div", { role: "cell", ...props }, children); }

  function conf(x) { return (100 * x).toFixed(0) + "%"; }

  function renderRow(r) {
    const tr = el("div", { role: "row", "data-index": r.index, class: "row" + (r.correction ? " corrected" : "") });
    const time = view.meta.timed ? App.clock(r.start) + " – " + App.clock(r.end) : "";
    tr.append(
      cell({ class: "num", text: r.index + 1 }),
      cell({ class: "time", text: time }),
      cell({ class: "text", text: r.text }),
    );
    if (r.editing) {
      tr.append(...editorCells(r, tr));
    } else {
      tr.append(
        cell({}, [el("span", { class: "badge emo-bg-" + label(r, "emotion"), text: label(r, "emotion") })]),
        cell({ text: label(r, "sub_emotion") }),
        cell({ text: label(r, "intensity") }),
        cell({ class: "conf", text: r.correction ? "corrected" : conf(r.emotion_confidence) + " · " + conf(r.sub_emotion_confidence) + " · " + conf(r.intensity_confidence),
          title: "confidence of emotion · sub-emotion · intensity" }),
        cell({ class: "fix" }, [el("button", { type: "button", class: "small", text: r.correction ? "Edit" : "Correct",
          "aria-label": (r.correction ? "Edit the correction of row " : "Correct row ") + (r.index + 1),
          onclick: () => { r.editing = true; redraw(r, "select"); } }),
        r.sent ? el("span", { class: "sent " + r.sent.status, text: r.sent.status === "saved" ? "saved" : "in quarantine", title: r.sent.reason || "" }) : null]),
      );
    }
    return tr;
  }

  function options(select, values, current, groups) {
    select.replaceChildren();
    for (const [title, list] of groups || [[null, values]]) {
      const parent = title ? el("optgroup", { label: title }) : select;
      for (const v of list) parent.append(el("option", { value: v, text: v, selected: v === current }));
      if (title) select.append(parent);
    }
    select.value = current;
  }

  function subGroups(emotion) {
    const children = App.config.labels.children[emotion] || [];
    const others = App.config.labels.sub_emotion.filter((s) => !children.includes(s));
    return [["of " + emotion, children], ["others", others]];
  }

  function editorCells(r, tr) {
    const draft = { emotion: label(r, "emotion"), sub_emotion: label(r, "sub_emotion"), intensity: label(r, "intensity") };
    const n = r.index + 1;
    const emo = el("select", { "aria-label": "Emotion of row " + n, class: "fix-emotion" });
    const sub = el("select", { "aria-label": "Sub-emotion of row " + n, class: "fix-sub" });
    const int = el("select", { "aria-label": "Intensity of row " + n, class: "fix-intensity" });
    options(emo, App.config.labels.emotion, draft.emotion);
    options(sub, null, draft.sub_emotion, subGroups(draft.emotion));
    options(int, App.config.labels.intensity, draft.intensity);
    emo.addEventListener("change", () => {
      const children = App.config.labels.children[emo.value] || [];
      const keep = children.includes(sub.value) ? sub.value : children[0];
      options(sub, null, keep, subGroups(emo.value));
    });
    const done = () => {
      const chosen = { emotion: emo.value, sub_emotion: sub.value, intensity: int.value };
      const same = chosen.emotion === r.emotion && chosen.sub_emotion === r.sub_emotion && chosen.intensity === r.intensity;
      r.correction = same ? null : chosen;
      r.sent = null;
      r.editing = false;
      redraw(r, "button");
      updatePending();
      drawShares();
      drawTimeline();
    };
    const cancel = () => { r.editing = false; redraw(r, "button"); };
    tr.addEventListener("keydown", (ev) => { if (ev.key === "Escape") cancel(); });
    return [
      cell({}, [emo]), cell({}, [sub]), cell({}, [int]),
      cell({}, [el("button", { type: "button", class: "small primary", text: "Keep", "aria-label": "Keep the correction of row " + n, onclick: done })]),
      cell({}, [el("button", { type: "button", class: "small ghost", text: "Cancel", "aria-label": "Cancel the correction of row " + n, onclick: cancel })]),
    ];
  }

  function redraw(r, focus) {
    const old = $("tbody").querySelector('.row[data-index="' + r.index + '"]');
    if (!old) return;
    const fresh = renderRow(r);
    old.replaceWith(fresh);
    const target = fresh.querySelector(focus);
    if (target) target.focus();
  }

  function corrections() { return view.rows.filter((r) => r.correction && !r.sent); }

  function updatePending() {
    const n = corrections().length;
    $("send").disabled = n === 0;
    $("pending").textContent = n === 0
      ? "No corrections waiting. Use Correct on a row where the labels are wrong; corrections go to the feedback store."
      : n + " correction" + (n === 1 ? "" : "s") + " ready to send to the feedback store.";
  }

  async function send() {
    const rows = corrections();
    if (!rows.length) return;
    const items = rows.map((r) => ({ text: r.text, emotion: r.correction.emotion, sub_emotion: r.correction.sub_emotion,
      intensity: r.correction.intensity, start_time: r.start, end_time: r.end }));
    $("send").disabled = true;
    const receipt = $("receipt");
    receipt.hidden = false;
    receipt.className = "receipt";
    receipt.replaceChildren(el("p", { text: "Sending " + rows.length + " correction(s)…" }));
    try {
      const res = await App.request("/feedback", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ items, source: "web app: " + view.meta.source }) });
      const answer = res.body;
      const list = el("ul", {});
      (answer.rows || []).forEach((outcome) => {
        const r = rows[outcome.index];
        if (!r) return;
        r.sent = outcome;
        const what = outcome.status === "saved" ? "saved for training" : "kept in quarantine: " + outcome.reason;
        list.append(el("li", { class: outcome.status }, [el("b", { text: "Row " + (r.index + 1) + ": " }), el("span", { text: what })]));
      });
      receipt.className = "receipt " + (answer.record_count ? "ok" : "warn");
      receipt.replaceChildren(
        el("p", { class: "receipt-title", text: answer.record_count + " saved, " + answer.quarantined + " kept in quarantine (HTTP " + res.status + ")" }),
        el("p", { class: "muted", text: answer.message }), list,
        el("p", { class: "muted", text: "Stored as " + [answer.filename, answer.quarantine_file].filter(Boolean).join(" and ") + ". Nothing needs to be sent again." }));
    } catch (err) {
      receipt.className = "receipt error";
      receipt.replaceChildren(el("p", { text: "Not sent: " + err.message }));
    }
    receipt.focus();
    updatePending();
    renderRows();
  }

  /* ---- downloads ---- */

  const COLUMNS = ["index", "start", "end", "text", "emotion", "emotion_confidence", "sub_emotion", "sub_emotion_confidence",
    "intensity", "intensity_confidence", "corrected_emotion", "corrected_sub_emotion", "corrected_intensity"];

  function records() {
    return view.rows.map((r) => ({ index: r.index + 1, start: r.start, end: r.end, text: r.text,
      emotion: r.emotion, emotion_confidence: r.emotion_confidence, sub_emotion: r.sub_emotion,
      sub_emotion_confidence: r.sub_emotion_confidence, intensity: r.intensity, intensity_confidence: r.intensity_confidence,
      corrected_emotion: r.correction ? r.correction.emotion : null, corrected_sub_emotion: r.correction ? r.correction.sub_emotion : null,
      corrected_intensity: r.correction ? r.correction.intensity : null }));
  }

  function csvCell(v) {
    if (v === null || v === undefined) return "";
    let s = String(v);
    if (/^[=+\-@\t\r]/.test(s) && typeof v === "string") s = "'" + s; // not a formula in a spreadsheet
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function save(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function baseName() { return (view.meta.source || "analysis").replace(/\.[^.]+$/, "").replace(/[^\w.-]+/g, "_") + "-emotions"; }

  /* ---- wiring ---- */

  async function start() {
    let config;
    try {
      config = await App.loadConfig();
    } catch (err) {
      setStatus(err.message, "error");
      return;
    }
    for (const e of config.labels.emotion) $("filter-emotion").append(el("option", { value: e, text: e }));
    for (const i of config.labels.intensity) $("filter-intensity").append(el("option", { value: i, text: i }));
    $("file-note").textContent = config.speech.available
      ? "SRT, WebVTT, JSON segments, plain text, or audio / video (up to " + Math.round(config.limits.media_max_bytes / 1e6) + " MB, " + Math.round(config.limits.media_max_s / 60) + " min)."
      : "SRT, WebVTT, JSON segments or plain text. Audio and video need speech to text, which this server lacks: " + config.speech.hint;
    $("url-note").textContent = config.urls === "off"
      ? "This server fetches no links (EMOTION_CLF_MEDIA_URLS=off); it will say so if you try."
      : config.urls === "public" ? "Links to public hosts are fetched." : "Only links to the hosts this server allows are fetched.";
    App.request("/ready").then((r) => { $("served").textContent = "serving model v" + r.body.version; },
      () => { $("served").textContent = "no model loaded yet"; });

    $("analyse").addEventListener("click", () => run(() => analyseText($("input").value, "pasted text")));
    $("input").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); $("analyse").click(); }
    });
    $("example").addEventListener("click", () => { $("input").value = EXAMPLE; $("analyse").click(); });
    $("file").addEventListener("change", () => { const f = $("file").files[0]; if (f) onFile(f); $("file").value = ""; });
    $("fetch-url").addEventListener("click", () => {
      const url = $("url").value.trim();
      if (!url) { setStatus("Give a link first.", "error"); return; }
      run(() => analyseMedia(JSON.stringify({ url }), { "Content-Type": "application/json" }, url));
    });
    $("url").addEventListener("keydown", (ev) => { if (ev.key === "Enter") $("fetch-url").click(); });
    let pending = 0;
    $("search").addEventListener("input", () => { clearTimeout(pending); pending = setTimeout(applyFilters, 120); });
    for (const id of ["filter-emotion", "filter-intensity", "filter-corrected"]) $(id).addEventListener("change", applyFilters);
    $("send").addEventListener("click", send);
    $("download-json").addEventListener("click", () => save(baseName() + ".json", "application/json",
      JSON.stringify({ source: view.meta.source, model_version: view.meta.model_version, rows: records() }, null, 2)));
    $("download-csv").addEventListener("click", () => save(baseName() + ".csv", "text/csv",
      [COLUMNS.join(","), ...records().map((r) => COLUMNS.map((c) => csvCell(r[c])).join(","))].join("\r\n") + "\r\n"));
    document.body.dataset.ready = "true";
  }

  start();
})();
