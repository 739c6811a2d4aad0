/* The production page: polls GET /production/state and redraws each card in place. */
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const { el } = App;
  const HEADS = [["emotion", "emotion"], ["sub_emotion", "sub-emotion"], ["intensity", "intensity"]];
  let pollMs = 5000;
  let failures = 0;

  function body(id, ...children) { $(id).querySelector(".body").replaceChildren(...children.filter(Boolean)); }

  function kv(pairs) {
    const dl = el("dl", { class: "kv" });
    for (const [k, v] of pairs) dl.append(el("dt", { text: k }), el("dd", { text: v === null || v === undefined || v === "" ? "–" : v }));
    return dl;
  }

  function metricTable(metrics) {
    const heads = HEADS.filter(([h]) => metrics && metrics[h]);
    if (!heads.length) return el("p", { class: "muted", text: "no test metrics recorded" });
    const table = el("table", { class: "metric-table" }, [el("tr", {}, [el("th", { text: "test set" }), el("th", { text: "accuracy" }), el("th", { text: "macro-F1" })])]);
    for (const [h, name] of heads) table.append(el("tr", {}, [el("td", { text: name }), el("td", { text: metrics[h].accuracy.toFixed(3) }), el("td", { text: metrics[h].macro_f1.toFixed(3) })]));
    return table;
  }

  function card(id, info, served) {
    if (!info) { body(id, el("p", { class: "muted", text: "not set yet" })); return; }
    const pairs = [["family", info.family], ["registered", App.when(info.registered_at)], ["training data", info.data_fingerprint ? "fingerprint " + info.data_fingerprint.slice(0, 12) : null]];
    if (info.promoted) pairs.push(["promoted", App.when(info.promoted.at) + " by " + info.promoted.by + (info.promoted.forced ? " (forced)" : "")], ["reason", info.promoted.reason]);
    const version = el("p", { class: "big" }, [el("span", { text: "v" }), el("span", { class: "version", text: info.version })]);
    const servedNote = served ? el("span", { class: "pill " + (served.version === info.version ? "ok" : "warn"),
      text: served.version === info.version ? "this server serves it" : "this server serves v" + served.version }) : null;
    body(id, version, servedNote, kv(pairs), metricTable(info.test_metrics));
  }

  function traffic(t, workers) {
    const stat = (label, value) => el("div", {}, [el("span", { text: label }), el("b", { class: "stat", text: value })]);
    const ms = (x) => (x === null || x === undefined ? "–" : x < 10 ? x.toFixed(1) + " ms" : Math.round(x) + " ms");
    body("traffic",
      el("div", { class: "stats" }, [
        stat("requests/s", t.requests_per_s === null ? "–" : t.requests_per_s.toFixed(t.requests_per_s < 10 ? 2 : 0)),
        stat("p50", ms(t.p50_ms)), stat("p99", ms(t.p99_ms)), stat("errors (5xx)", t.errors === null ? "–" : String(t.errors))]),
      el("p", { class: "muted", text: (t.window_s ? "Over the last " + Math.round(t.window_s) + " s" : "Waiting for a second reading") +
        ", across " + workers + " worker" + (workers === 1 ? "" : "s") + "; " + t.total_requests + " API requests (" + t.total_errors +
        " errors) since start. This page's own requests are not counted." }));
  }

  function bars(live, reference) {
    const grid = el("div", { class: "bars" }, [el("span", {}), el("span", { class: "muted", text: "live" }), el("span", { class: "muted", text: "reference" })]);
    for (const e of App.EMOTIONS) {
      const bar = (x) => { const inner = el("span", { class: "emo-bg-" + e }); inner.style.width = (100 * (x || 0)) + "%"; return el("div", { class: "bar", title: App.pct(x, 1) }, [inner]); };
      grid.append(el("span", { text: e }), bar(live[e]), bar(reference[e]));
    }
    return grid;
  }

  function drift(d) {
    const kind = d.verdict === "shift" ? "bad" : d.verdict === "steady" ? "ok" : "";
    const children = [el("p", {}, [el("span", { class: "pill " + kind, text: d.verdict })]),
      kv([["predictions", String(d.rows)], ["distance", d.distance === null ? null : d.distance.toFixed(3) + " (shift above " + d.threshold + ")"]])];
    if (d.live && d.reference) children.push(bars(d.live, d.reference));
    children.push(el("p", { class: "muted", text: "Emotions the server answered in the last hour against the reference profile of the model it serves (total variation distance). The full check: emotion-clf drift check." }));
    body("drift", ...children);
  }

  function performance(p) {
    if (!p) { body("performance", el("p", { class: "muted", text: "unavailable" })); return; }
    const children = [kv([["feedback rows", String(p.rows)], ["in quarantine", String(p.quarantined)], ["matched to live answers", String(p.live_rows)]])];
    if (p.live) children.push(el("p", { class: "muted", text: "What the server answered, scored against the feedback (corrections sent from the analyse page are rows where the answer was wrong):" }), metricTable(p.live));
    else children.push(el("p", { class: "muted", text: p.live_note || (p.rows ? "No feedback row matches an answer in the prediction log yet." : "No feedback yet: corrections sent from the analyse page appear here.") }));
    if (p.latest_report) {
      const models = Object.entries(p.latest_report.models).map(([ref, s]) => ref + " " + s.accuracy.toFixed(3) + " acc / " + s.macro_f1.toFixed(3) + " F1").join("; ");
      children.push(el("p", { class: "muted", text: "Last report (" + App.when(p.latest_report.at) + ", " + p.latest_report.rows + " rows): " + models }));
    }
    body("performance", ...children);
  }

  function shadow(s) {
    if (!s.rate) { body("shadow", el("p", { class: "muted", text: "Shadow traffic is off (EMOTION_CLF_SHADOW_RATE=0)." })); return; }
    if (!s.report) { body("shadow", el("p", { class: "muted", text: "Shadow traffic is on (" + App.pct(s.rate) + " of requests); no shadow answer logged in the last hour yet." })); return; }
    const r = s.report;
    const rows = HEADS.map(([h, name]) => [name + " agreement", r.agreement[h].rate === null ? null : App.pct(r.agreement[h].rate, 1) + " of " + r.agreement[h].total]);
    body("shadow", kv([["sampled", App.pct(s.rate)], ["pairs", String(r.pairs)], ["candidate", Object.keys(r.candidate_versions).map((v) => "v" + v).join(", ")], ...rows]));
  }

  function audit(entries) {
    if (!entries || !entries.length) { body("audit", el("p", { class: "muted", text: "no promotion yet" })); return; }
    const table = el("table", { class: "audit" }, [el("tr", {}, ["when", "action", "change", "by", "status", "reason"].map((h) => el("th", { text: h })))]);
    for (const e of entries) {
      table.append(el("tr", {}, [el("td", { text: App.when(e.at) }), el("td", { text: e.action + (e.forced ? " (forced)" : "") }),
        el("td", { text: (e.from_version ? "v" + e.from_version : "none") + " → v" + e.to_version }), el("td", { text: e.by }),
        el("td", {}, [el("span", { class: "pill " + (e.status === "applied" ? "ok" : "warn"), text: e.status })]), el("td", { class: "reason", text: e.reason })]));
    }
    body("audit", table);
  }

  function reports(r) {
    body("reports", r.index
      ? el("p", {}, [el("span", { text: "The published site is on this machine: open " }), el("code", { text: r.index }), el("span", { text: " in a browser here (make reports writes it)." })])
      : el("p", { class: "muted", text: "No published reports on this machine (make reports writes them)." }));
  }

  function render(s) {
    pollMs = Math.max(500, 1000 * s.poll_s);
    const reg = s.registry || {};
    card("baseline", reg.baseline, s.served);
    card("dynamic", reg.dynamic, null);
    traffic(s.traffic, s.workers);
    drift(s.drift);
    performance(s.performance);
    shadow(s.shadow);
    audit(reg.audit);
    reports(s.reports);
    $("served").textContent = s.served ? "serving model v" + s.served.version : "no model loaded yet";
    $("notes").replaceChildren(...(s.notes || []).map((n) => el("p", { class: "muted", text: n })));
    $("updated").textContent = "updated " + new Date().toLocaleTimeString() + " · every " + s.poll_s + " s";
  }

  async function poll() {
    try {
      const res = await App.request("/production/state", { cache: "no-store" });
      render(res.body);
      failures = 0;
      $("live").textContent = "live";
      $("live").className = "pill ok";
      document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
    } catch (err) {
      failures += 1;
      $("live").textContent = "not updating: " + err.message;
      $("live").className = "pill bad";
    }
    setTimeout(poll, failures ? Math.min(pollMs * 2 ** failures, 60000) : pollMs);
  }

  poll();
})();
