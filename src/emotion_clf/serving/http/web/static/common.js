/* Helpers both pages use. Text always goes in as textContent: no string here is ever parsed
   as HTML, so a sentence, a file name or a server message cannot add markup or script. */
"use strict";

const App = {};

/* An element: el("td", {class: "x", text: "..."}, [children]). */
App.el = function (tag, props, children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children || []) if (child) node.append(child);
  return node;
};

App.svg = function (tag, attrs, children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children || []) if (child) node.append(child);
  return node;
};

/* The server's own words for a failure: its JSON "detail", else the status line. */
App.problem = async function (response) {
  let detail = "";
  try {
    const body = await response.json();
    detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || body);
  } catch (err) {
    detail = response.statusText;
  }
  return "The server answered " + response.status + ": " + detail;
};

App.request = async function (path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new Error("The server could not be reached (" + err.message + ").");
  }
  if (!response.ok) throw new Error(await App.problem(response));
  return { body: await response.json(), status: response.status, headers: response.headers };
};

App.config = null;
App.loadConfig = async function () {
  if (!App.config) App.config = (await App.request("/app/config.json")).body;
  return App.config;
};

App.clock = function (seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "";
  const s = Math.max(0, seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const sec = r.toFixed(1).padStart(4, "0");
  return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + sec;
};

App.when = function (iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
};

App.pct = function (x, digits) {
  return x === null || x === undefined ? "–" : (100 * x).toFixed(digits === undefined ? 0 : digits) + "%";
};

App.EMOTIONS = ["neutral", "happiness", "surprise", "anger", "disgust", "sadness", "fear"];
