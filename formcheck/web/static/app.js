// formcheck's pages: upload with the symptom screening, live progress, and
// the report's plan read aloud by the browser's own speech.
// Plain script, no library: it ships with the package and works offline.
"use strict";

function show(el, on) { if (el) el.hidden = !on; }

function setupUpload(form) {
  const inputs = [...form.querySelectorAll("input[data-video]")];
  const go = form.querySelector("#go");
  const chosen = document.getElementById("chosen");
  const problem = document.getElementById("upload-error");
  const sending = document.getElementById("sending");
  let file = null;

  inputs.forEach(input => input.addEventListener("change", () => {
    if (!input.files.length) return;
    file = input.files[0];
    inputs.forEach(other => { if (other !== input) other.value = ""; });
    chosen.textContent = `${file.name} (${(file.size / 1048576).toFixed(1)} MB)`;
    // The server refuses it anyway (413); saying so here spares sending it.
    const limit = Number(form.dataset.maxMb);
    const tooBig = file.size > limit * 1048576;
    problem.textContent = tooBig ? `the video is larger than this server's limit of ${limit} MB` : "";
    show(problem, tooBig);
    go.disabled = tooBig;
  }));

  // The red-flag screening is the CLI's: the server words the message.
  const safety = document.getElementById("safety");
  const boxes = [...form.querySelectorAll("input[name=symptom]")];
  boxes.forEach(box => box.addEventListener("change", async () => {
    const picked = boxes.filter(b => b.checked).map(b => "symptom=" + encodeURIComponent(b.value));
    const answer = await fetch("/api/safety?" + picked.join("&"));
    const result = await answer.json();
    const text = document.getElementById("safety-text");
    text.replaceChildren(...(result.message || "").split("\n").filter(Boolean).map(line => {
      const p = document.createElement("p"); p.textContent = line; return p;
    }));
    safety.classList.toggle("urgent", !!result.urgent);
    show(safety, !!result.message);
    if (result.message && box.checked && box.hasAttribute("data-red-flag")) safety.scrollIntoView({behavior: "smooth"});
  }));

  form.addEventListener("submit", event => {
    event.preventDefault();
    if (!file) return;
    const data = new FormData();
    data.append("video", file, file.name);
    const lifter = form.querySelector("#lifter").value.trim();
    if (lifter) data.append("lifter", lifter);
    boxes.filter(b => b.checked).forEach(b => data.append("symptom", b.value));
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.responseType = "json";
    request.upload.addEventListener("progress", e => { if (e.lengthComputable) sending.value = e.loaded / e.total; });
    request.addEventListener("load", () => {
      if (request.status === 202) { window.location.assign(request.response.report_url); return; }
      problem.textContent = (request.response && request.response.error) || `upload refused (${request.status})`;
      show(problem, true); show(sending, false); go.disabled = false;
    });
    request.addEventListener("error", () => {
      problem.textContent = "the upload did not reach the server; is it still running?";
      show(problem, true); show(sending, false); go.disabled = false;
    });
    go.disabled = true; show(problem, false); show(sending, true); sending.value = 0;
    request.send(data);
  });
}

const STAGES = {starting: "Starting…", pose: "Finding the lifter in each frame",
                analysis: "Measuring each rep", rendering: "Drawing the annotated video and the report",
                done: "Done"};

function setupProgress(box) {
  const url = box.dataset.statusUrl;
  const bar = document.getElementById("bar"), state = document.getElementById("state");
  const frames = document.getElementById("frames"), problem = document.getElementById("job-error");
  async function poll() {
    let s;
    try { s = await (await fetch(url)).json(); }
    catch (e) { state.textContent = "Lost the server; retrying…"; setTimeout(poll, 2000); return; }
    bar.value = s.progress || 0;
    if (s.status === "done") { state.textContent = "Done; opening the report…"; window.location.reload(); return; }
    if (s.status === "failed") {
      state.textContent = "Failed"; problem.textContent = s.error || "the analysis failed";
      show(problem, true); show(document.getElementById("again"), true); return;
    }
    state.textContent = s.status === "queued" ? "Waiting for a free worker…" : (STAGES[s.stage] || "Working…");
    const parts = [];
    if (s.frames_total) parts.push(`${s.frames_done} of ${s.frames_total} frames`);
    if (s.eta_s !== null && s.eta_s !== undefined) parts.push(`about ${Math.max(1, Math.round(s.eta_s))} s left`);
    frames.textContent = parts.join(" · ");
    setTimeout(poll, 500);
  }
  poll();
}

// The verdict and the plan, as sentences: the report's words, without its
// source numbers and severity chips. Speech is the browser's: no server audio.
function setupReadAloud(verdict) {
  const synth = window.speechSynthesis;
  if (!synth || typeof SpeechSynthesisUtterance === "undefined") return;  // no button where nothing can speak
  const button = document.createElement("button");
  button.type = "button";
  button.id = "read-aloud";
  button.className = "read-aloud";
  const idle = "Read the plan aloud";
  button.textContent = idle;
  verdict.querySelector("h2").after(button);
  button.addEventListener("click", () => {
    if (synth.speaking) { synth.cancel(); button.textContent = idle; return; }
    const copy = verdict.cloneNode(true);
    copy.querySelectorAll("sup.src, .chip, button").forEach(el => el.remove());
    const text = [...copy.querySelectorAll("h2, h3, p, li")].map(el => el.textContent.replace(/\s+/g, " ").trim())
      .filter(Boolean).map(line => /[.!?:]$/.test(line) ? line : line + ".").join(" ");
    const said = new SpeechSynthesisUtterance(text);
    said.lang = document.documentElement.lang || "en";
    said.addEventListener("end", () => { button.textContent = idle; });
    button.textContent = "Stop reading";
    synth.speak(said);
  });
}

// The boxes over the report's people frame pick a person, as the picker's buttons do.
function setupPersonPicker(picker) {
  const shown = document.querySelector(".report #people");
  if (shown) shown.after(picker);  // next to the picture it refers to (without script it stays below the report)
  document.querySelectorAll(".report .person-box").forEach(box => {
    const button = picker.querySelector(`button[value="${box.dataset.person}"]`);
    if (!button || button.disabled) return;
    box.classList.add("pickable");
    box.tabIndex = 0;
    box.setAttribute("role", "button");
    box.setAttribute("aria-label", "analyse " + box.title);
    box.addEventListener("click", () => button.click());
    box.addEventListener("keydown", e => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); button.click(); } });
  });
}

const verdict = document.querySelector(".report #verdict");
if (verdict) setupReadAloud(verdict);
const form = document.getElementById("upload");
if (form) setupUpload(form);
const picker = document.getElementById("person-picker");
if (picker) setupPersonPicker(picker);
const box = document.getElementById("progress");
if (box && !document.getElementById("job-error").textContent.trim()) setupProgress(box);
