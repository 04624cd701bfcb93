// wargame classroom: one small page for every role. The server says what this link may
// see (/api/view); the page re-reads it whenever the room's version changes
// (server-sent events on /api/events) and draws it. Nothing secret is ever sent to a
// link that may not see it, so this file holds no secret logic of its own.
"use strict";

const parts = location.pathname.split("/").filter(Boolean);
const KIND = parts[0];
const TOKEN = parts[1];
const app = document.getElementById("app");
let current = null;
let deadline = null;
let lastError = "";
const drafts = {};  // student's probabilities being typed: branch -> outcome -> text
// What a person has typed into a box (by the box's id) and not yet used: a redraw of
// the page (another device acted) puts it back, with the cursor where it was, so live
// updates never wipe what is being typed.
const typed = {};
const opened = new Set();  // <details data-key> a person opened: kept open across redraws
document.addEventListener("input", (event) => {
  const box = event.target;
  if (box.id && box.dataset.keep !== undefined) typed[box.id] = box.value;
});
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box.id && box.dataset.keep !== undefined) typed[box.id] = box.value;
});
document.addEventListener("toggle", (event) => {
  const details = event.target;
  if (!details.dataset || !details.dataset.key) return;
  if (details.open) opened.add(details.dataset.key); else opened.delete(details.dataset.key);
  if (KIND === "projector") fitPanels();
}, true);

// Draw the page, keeping what is being typed: values, focus and the cursor.
function render(html) {
  const active = document.activeElement;
  const focus = active && active.id ? active.id : null;
  let selection = null;
  try {
    if (focus && active.selectionStart != null) selection = [active.selectionStart, active.selectionEnd];
  } catch (error) { selection = null; }
  app.innerHTML = html;
  for (const [id, value] of Object.entries(typed)) {
    const box = document.getElementById(id);
    if (box) box.value = value;
  }
  for (const details of app.querySelectorAll("details[data-key]")) {
    if (opened.has(details.dataset.key)) details.open = true;
  }
  if (focus) {
    const box = document.getElementById(focus);
    if (box) {
      box.focus();
      try { if (selection) box.setSelectionRange(selection[0], selection[1]); } catch (error) { /* a number box */ }
    }
  }
}
function used(id) {
  delete typed[id];
  const box = document.getElementById(id);
  if (box) box.value = "";
}

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}
const words = (id) => esc(String(id ?? "").replaceAll("_", " "));
const pct = (p) => `${Math.round(100 * p)}%`;
// A number as the rest of the program writes it (sim.seminar.transcript.format_number):
// four significant figures, but 10,000 and more in full with separators (14,410).
const num = (x) => {
  if (Math.abs(x) < 1e-12) return "0";
  if (Math.abs(x) >= 1e4) return Math.round(x).toLocaleString("en-US");
  return String(Number(x.toPrecision(4)));
};

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "X-Token": TOKEN, "Content-Type": "application/json", ...(options.headers || {}) },
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error || `HTTP ${response.status}`);
    error.confirm = Boolean(data.confirm);
    throw error;
  }
  return data;
}
const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body) });

// A student's name and its secret are kept for this site (the server's address and
// port), not for this link's token: `wargame serve --resume` makes new tokens, and the
// device gets its name back by the same secret.
function studentName() { return localStorage.getItem("wargame-student-name") || ""; }
function secretOf(name) { return localStorage.getItem(`wargame-student-secret-${name.toLowerCase()}`); }
function studentSecret() { return secretOf(studentName()); }

async function refresh() {
  try {
    if (KIND === "debrief") {
      const data = await api("/api/debrief");
      current = data;
      drawDebrief(data);
      return;
    }
    const query = KIND === "students" ? `?name=${encodeURIComponent(studentName())}` : "";
    const secret = KIND === "students" ? studentSecret() : null;
    const data = await api(`/api/view${query}`, secret ? { headers: { "X-Student-Secret": secret } } : {});
    current = data;
    deadline = data.remaining == null ? null : Date.now() + 1000 * data.remaining;
    draw(data);
  } catch (error) {
    render(`<p class="error">${esc(error.message)}</p>`);
  }
}

function showError(message) {
  lastError = message;
  const box = document.getElementById("error");
  if (box) box.textContent = lastError;
}

function act(promise) {
  lastError = "";
  return promise.then(() => refresh()).catch((error) => showError(error.message));
}

// --- shared pieces ----------------------------------------------------------------------

function header(v, extra = "") {
  let round;
  if (v.phase === "open" && v.open) round = `Round ${v.open.round} of ${v.rounds} · ${v.open.date} · teams choosing`;
  else if (v.phase === "over" && v.played) round = `Round ${v.played.round} of ${v.rounds} · ${v.played.date} · game over`;
  else if (v.phase === "over") round = `Game over after round ${v.round} of ${v.rounds}`;
  else if (v.played) round = `Round ${v.played.round} of ${v.rounds} · ${v.played.date} · revealed`;
  else round = `Before round 1 of ${v.rounds}`;
  return `<header class="top"><h1>${esc(v.title)}</h1><span class="round" id="round">${esc(round)}</span>
    ${extra}<span class="clock" id="clock"></span></header>`;
}

// Injects: in full on devices; on the projector the first sentence, the rest on a click
// (a long round's text would otherwise shrink below what the back row can read).
function injectsHtml(injects, brief = false) {
  return injects.map((i) => {
    const prompt = i.prompt ? `<div class="prompt">Prompt: ${esc(i.prompt)}</div>` : "";
    if (brief && i.short && i.short !== i.text) {
      return `<div class="inject"><details data-key="inject-${esc(i.id)}"><summary><span class="id">${words(i.id)}:</span>
        <span class="short">${esc(i.short)}</span></summary><div class="full">${esc(i.text)}</div></details>${prompt}</div>`;
    }
    return `<div class="inject"><span class="id">${words(i.id)}:</span> ${esc(i.text)}${prompt}</div>`;
  }).join("");
}

function dueHtml(due) {
  // A chance event's text tells something that may not happen (a lecturer read a
  // collision aloud that never came): it is told when it does, as in the terminal.
  return due.map((b) => b.chance
    ? `<div class="inject branch chance"><span class="id">${words(b.id)}</span> may come up this round, by chance.</div>`
    : `<div class="inject branch"><span class="id">Due now: ${words(b.id)}.</span> ${esc(b.text)}
    ${b.prompt ? `<div class="prompt">Prompt: ${esc(b.prompt)}</div>` : ""}</div>`).join("");
}

function branchesHtml(branches) {
  return branches.map((b) => `<div class="inject branch">
    ${b.announced ? "" : `<div><span class="id">${words(b.id)}:</span> ${esc(b.text)}</div>
      ${b.prompt ? `<div class="prompt">Prompt: ${esc(b.prompt)}</div>` : ""}`}
    <span class="id">${words(b.id)} → ${words(b.outcome)}.</span> ${esc(b.outcome_text)}${b.by_people ? ' <span class="tag people">people</span>' : ""}${b.by_rule ? ' <span class="tag">left to the rule</span>' : ""}</div>`).join("");
}

function movesHtml(played) {
  const rows = played.moves.map((m) => `<tr data-actor="${esc(m.id)}"><td class="who"><b>${esc(m.id)}</b>${m.by_people ? ' <span class="tag people">people</span>' : ""}</td>
    <td class="move">${words(m.move || "-")}</td><td class="reason">${esc(m.reason)}</td></tr>`).join("");
  return `<table class="moves"><tbody>${rows}</tbody></table>`;
}

function changesHtml(changes) {
  if (!changes.length) return '<p class="muted">No state variable changed.</p>';
  const rows = changes.map((c) => `<tr><td title="${esc(c.name)}">${c.title ? esc(c.title) : words(c.name)}</td><td class="num">${esc(c.before)}</td>
    <td class="arrow">${esc(c.arrow)}</td><td class="num">${esc(c.after)}</td></tr>`).join("");
  return `<table class="changes"><tbody>${rows}</tbody></table>`;
}

function treeHtml(tree) {
  const items = tree.map((t) => {
    if (t.status === "resolved") return `<li><b>${words(t.id)}</b> → ${words(t.outcome)} <span class="muted">(round ${t.round})</span>${t.by_people ? ' <span class="tag people">people</span>' : ""}</li>`;
    if (t.status === "due") return `<li><b>${words(t.id)}</b>: ${t.chance ? "may come up this round, by chance" : "due this round"}</li>`;
    if (t.status === "closed") return `<li class="muted">${words(t.id)}: will not come up</li>`;
    return `<li class="muted">${words(t.id)}: ${t.round ? `round ${t.round}` : "not yet"}</li>`;
  }).join("");
  return `<ul class="tree">${items}</ul>`;
}

function outlookHtml(o) {
  const endings = o.endings.filter((e) => e.p > 0.0005).map((e) => `<tr><td>${esc(e.title)}</td>
    <td class="num">${pct(e.p)}</td><td><span class="bar" style="width:${Math.round(60 * e.p)}px"></span></td></tr>`).join("");
  const branches = o.branches.map((b) => {
    if (b.closed) return `<li class="muted">${words(b.id)}: will not come up</li>`;
    if (!b.outcomes) return `<li>${words(b.id)}: <span class="muted">odds hidden until it resolves</span></li>`;
    const best = Object.entries(b.outcomes).sort((x, y) => y[1] - x[1])
      .map(([k, p]) => `${words(k)} ${pct(p)}`).join(", ");
    return `<li>${words(b.id)}: ${best}${b.resolves < 0.995 ? ` <span class="muted">(resolves in ${pct(b.resolves)})</span>` : ""}</li>`;
  }).join("");
  return `<table><tbody>${endings}</tbody></table>${branches ? `<ul class="tree">${branches}</ul>` : ""}
    <p class="muted">${o.runs.toLocaleString()} continuations from round ${o.round}</p>`;
}

function teamsHtml(v) {
  if (!v.teams.length) return '<p class="muted">No team plays in this game.</p>';
  return v.teams.map((t) => `<div>${esc(t.actor)} <span class="muted">${esc(t.name)}</span>
    ${v.phase === "open" ? `<span class="tag ${t.chosen ? "ok" : "wait"}">${t.chosen ? "chosen" : "thinking"}</span>` : ""}</div>`).join("");
}

function endingHtml(e) {
  if (!e) return "";
  const rows = e.payoffs.map((p) => `<tr><td><b>${esc(p.id)}</b></td><td>${esc(p.name)}</td><td class="num">${p.payoff.toFixed(2)}</td></tr>`).join("");
  return `<h2 id="ending">Ending: ${esc(e.title)} <span class="muted">(round ${e.round})</span></h2>
    <table class="payoffs"><thead><tr><th>Actor</th><th></th><th class="num">Total payoff</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// The rounds the rules played after "End the game": their injects and branch outcomes.
function restHtml(e) {
  if (!e || !e.rest || !e.rest.length) return "";
  const first = e.rest[0].round;
  const last = e.rest[e.rest.length - 1].round;
  const rounds = e.rest.map((r) => {
    const events = r.branches.map((b) => `<div class="inject branch"><span class="id">${words(b.id)} → ${words(b.outcome)}.</span> ${esc(b.outcome_text)}${b.by_people ? ' <span class="tag people">people</span>' : ""}</div>`).join("");
    const injects = r.injects.map((i) => `<div class="inject"><span class="id">${words(i.id)}:</span> ${esc(i.short || i.text)}</div>`).join("");
    const people = r.by_people ? " · with the teams' choices" : "";
    return injects || events || people ? `<h3>Round ${r.round} · ${esc(r.date)}${people}</h3>${injects}${events}` : "";
  }).join("");
  const which = first === last ? `Round ${first}` : `Rounds ${first}–${last}`;
  const how = e.rest[0].by_people ? `, round ${first} with the teams' choices, the rest by the rules` : ", played by the rules";
  return `<h2>${which}${how}</h2>${rounds || '<p class="muted">Nothing was announced in them.</p>'}`;
}

function tick() {
  const clock = document.getElementById("clock");
  if (!clock) return;
  if (deadline == null || !current || current.phase !== "open") { clock.textContent = ""; return; }
  const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
  clock.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  clock.classList.toggle("low", left <= 15);
}

// Shrink each panel's text until it fits its box: the projector never scrolls.
function fitPanels() {
  for (const panel of document.querySelectorAll(".fit")) {
    let size = 20;
    panel.style.fontSize = `${size}px`;
    const over = () => panel.scrollHeight > panel.clientHeight + 1 || panel.scrollWidth > panel.clientWidth + 1;
    while (over() && size > 9) {
      size -= 0.5;
      panel.style.fontSize = `${size}px`;
    }
    panel.dataset.fontSize = String(size);
  }
}

// --- the pages --------------------------------------------------------------------------

function roomPanels(v, options = {}) {
  const brief = Boolean(options.brief);
  const teams = options.teams !== false;
  let left = "";
  let middle = "";
  if (v.phase === "open" && v.open) {
    left = `<h2>Round ${v.open.round}: what happens</h2>${injectsHtml(v.open.injects, brief) || '<p class="muted">No inject this round.</p>'}${dueHtml(v.open.due)}`;
    if (teams) middle = `<h2>Teams are choosing in secret</h2>${teamsHtml(v)}`;
    if (v.played) middle += `<h2 style="margin-top:0.6em">Last round (${v.played.round})</h2>${movesHtml(v.played)}`;
  } else if (v.phase === "over" && v.ending) {
    const rest = restHtml(v.ending);
    left = rest || (v.played ? `<h2>Round ${v.played.round}: what happened</h2>${injectsHtml(v.played.injects, brief) || '<p class="muted">No inject this round.</p>'}${branchesHtml(v.played.branches)}` : "");
    middle = endingHtml(v.ending);
    if (v.played) middle += `<h2 style="margin-top:0.6em">Moves in round ${v.played.round}</h2>${movesHtml(v.played)}`;
  } else if (v.played) {
    left = `<h2>Round ${v.played.round}: what happened</h2>${injectsHtml(v.played.injects, brief) || '<p class="muted">No inject this round.</p>'}${branchesHtml(v.played.branches)}`;
    middle = `<h2>Moves</h2>${movesHtml(v.played)}`;
  } else {
    left = `<h2>The scenario</h2><p>${esc(v.description)}</p>`;
    middle = teams ? `<h2>Teams</h2>${teamsHtml(v)}`
      : '<h2>Before round 1</h2><p class="muted">Nothing has been played yet: open round 1 when the room is ready. Its injects, then the moves, appear here.</p>';
  }
  const side = `${v.played ? `<h2>Changes in round ${v.played.round}</h2>${changesHtml(v.played.changes)}` : ""}
    <h2>Branches</h2>${treeHtml(v.tree)}<h2>The model expects</h2>${outlookHtml(v.outlook)}`;
  return { left, middle, side };
}

function drawProjector(v) {
  document.body.className = "projector";
  const { left, middle, side } = roomPanels(v, { brief: true });
  const debrief = v.debrief ? `<a class="debrief-link" id="debrief-link" href="${esc(v.debrief)}">debrief</a>` : "";
  render(`${header(v, debrief)}<main class="grid ${esc(v.phase)}">
    <section class="panel fit" id="p-left">${left}</section>
    <section class="panel fit" id="p-middle">${middle}</section>
    <section class="panel fit" id="p-side">${side}</section></main>`);
  fitPanels();
}

function briefingHtml(b, open) {
  const values = b.values.map((x) => `<li>${esc(x)}</li>`).join("");
  const options = b.options.map((o) => `<li><b>${words(o.id)}</b>: ${esc(o.description)}
    <span class="muted">(cost ${esc(o.cost)}${o.when ? `; open only when ${esc(o.when)}` : ""})</span></li>`).join("");
  const others = b.others.map((o) => `${esc(o.id)} (${esc(o.name)})`).join(", ");
  return `<details class="card briefing" id="briefing" data-key="briefing" ${open ? "open" : ""}>
    <summary><b>Your briefing: you play ${esc(b.actor)} (${esc(b.name)})</b></summary>
    <h2>${esc(b.title)}</h2><p>${esc(b.description)}</p>
    <p class="muted">${b.rounds} rounds of ${b.round_days} days from ${esc(b.start)}. The others: ${others}.</p>
    <h3>What ${esc(b.actor)} values</h3><ul>${values}</ul>
    <h3>Your options</h3><ul>${options}</ul></details>`;
}

function drawTeam(v) {
  document.body.className = "device team";
  const team = v.team;
  let body = "";
  if (v.phase === "open" && v.open) {
    const choice = team.choice;
    const undecided = team.decides.filter((d) => d.certain && !d.choice).map((d) => words(d.id));
    body += `<div class="choicebar"><b id="your-choice">${choice ? `Your choice: ${words(choice)}` : "No choice yet"}${undecided.length ? ` · still to decide: ${esc(undecided.join(", "))}` : ""}</b>
      <span class="muted"> · secret until the reveal; you can change it</span><div class="error" id="error">${esc(lastError)}</div></div>`;
    body += `<div class="card teams">${teamsHtml(v)}</div>`;
    body += `<h2>${esc(team.actor)} (${esc(team.name)}): your options</h2>
      <p class="muted">Expected: what each option is expected to do this round to what ${esc(team.actor)} values
      (green good, red bad), counting the others' likely moves.</p>`;
    body += team.options.map((o) => {
      const effects = o.effects.map((e) => `<span class="${e.good ? "good" : "bad"}">${e.title ? esc(e.title) : words(e.name)} ${esc(e.shown)}</span>`).join(", ");
      return `<button class="option ${o.id === choice ? "chosen" : ""}" data-action="${esc(o.id)}">
        <div class="name">${words(o.id)}</div><div>${esc(o.description)}</div>
        <div class="effects">${effects ? `Expected: ${effects}` : '<span class="muted">Changes nothing you value directly.</span>'}
        ${o.foresaw.length ? ` · ${esc(o.foresaw.join(", "))}` : ""}</div>
        <div class="muted">Your actor's rule would pick it ${pct(o.rule_p)} of the time.</div></button>`;
    }).join("");
    if (choice) body += `<button class="option" data-action="" id="take-back">
        <div class="name">Leave the move to the rule</div><div class="muted">Take your choice back: your actor's rule chooses at the reveal.</div></button>`;
    if (team.expects.length) body += `<p class="muted">Your actor's rule expects: ${esc(team.expects.join(", "))}.</p>`;
    for (const d of team.decides) {
      const when = d.certain ? "it comes up this round" : "if it comes up this round";
      // Not yet happening: the scenario's text is what it would say (a lecturer's trial
      // read "The quarantine is in force" in round 1, with no quarantine).
      const told = d.certain ? `<p>${esc(d.text)}</p>` : `<p class="muted">It has not happened. If it comes up, it reads:</p><p>${esc(d.text)}</p>`;
      body += `<h2>${esc(team.actor)} decides ${words(d.id)} (${when})</h2>${told}
        ${!d.certain && d.condition ? `<p class="muted">It comes up when ${esc(d.condition)}; your decision stays until it does.</p>` : ""}
        ${d.prompt ? `<p class="prompt">Prompt: ${esc(d.prompt)}</p>` : ""}
        <p class="muted">${d.choice ? `Your decision: ${words(d.choice)}` : "No decision yet: your actor's rule decides"} · secret until the reveal; you can change it</p>`;
      body += d.outcomes.map((o) => `<button class="option outcome ${o.id === d.choice ? "chosen" : ""}" data-branch="${esc(d.id)}" data-outcome="${esc(o.id)}" aria-pressed="${o.id === d.choice}">
        <div class="name">${words(o.id)}</div><div>${esc(o.text)}</div>
        ${o.effects.length ? `<div class="effects">Then: ${esc(o.effects.join(", "))}</div>` : ""}
        ${o.rule_p === null ? "" : `<div class="muted">Your actor's rule would decide it ${pct(o.rule_p)} of the time.</div>`}</button>`).join("");
      if (d.choice) body += `<button class="option outcome" data-branch="${esc(d.id)}" data-outcome="">
        <div class="name">Leave it to the rule</div><div class="muted">Take your decision back: your actor's rule decides.</div></button>`;
    }
    body += `<details class="card" open><summary><b>This round's injects and prompts</b></summary>${injectsHtml(v.open.injects)}${dueHtml(v.open.due)}</details>`;
    body += briefingHtml(team.briefing, false);
  } else {
    const first = v.phase === "ready" && v.round === 0;
    const wait = v.phase === "over" ? "The game is over." : first
      ? "Read your briefing: the first round opens soon." : "Wait for the next round.";
    body += `<div class="card"><p><b>${wait}</b></p></div>`;
    if (first) body += briefingHtml(team.briefing, true);
    if (v.ending) body += `<div class="card">${endingHtml(v.ending)}${restHtml(v.ending)}</div>`;
    if (v.played) {
      // Said to the team whose move its rule made (it did not choose, or took it back).
      const own = v.played.moves.find((m) => m.id === team.actor);
      const byRule = own && !own.by_people && own.move
        ? `<p class="prompt" id="by-rule">Your team did not choose in round ${v.played.round}: ${esc(team.actor)}'s rule chose ${words(own.move)}.</p>` : "";
      body += `<div class="card"><h2>Round ${v.played.round}</h2>${byRule}${branchesHtml(v.played.branches)}${movesHtml(v.played)}<h3>Changes</h3>${changesHtml(v.played.changes)}</div>`;
    }
    if (!first) body += briefingHtml(team.briefing, false);
  }
  render(`${header(v, `<span class="tag people">${esc(team.actor)}</span>`)}${body}`);
  for (const button of app.querySelectorAll("button.option:not(.outcome)")) {
    button.addEventListener("click", () => act(post("/api/choose", { actor: team.actor, action: button.dataset.action || null })));
  }
  for (const button of app.querySelectorAll("button.option.outcome")) {
    button.addEventListener("click", () => act(post("/api/decide", { actor: team.actor, branch: button.dataset.branch, outcome: button.dataset.outcome || null })));
  }
}

function storeSecret(name, secret) {
  localStorage.setItem("wargame-student-name", name);
  localStorage.setItem(`wargame-student-secret-${name.toLowerCase()}`, secret);
}

function drawStudent(v) {
  document.body.className = "device students";
  const name = studentName();
  const joined = v.me ? `<span class="tag ok" id="joined">you are ${esc(v.me)}</span>` : "";
  let body = `<div class="card"><label>Your name <input id="name" data-keep value="${esc(name)}" autocomplete="name"></label>
    <button id="set-name">${v.me ? "Change my name" : "Use this name"}</button> ${joined}<div class="error" id="error">${esc(lastError)}</div></div>`;
  const due = v.phase === "open" && v.open ? v.open.forecast : [];
  // Once the game is over, how it ended comes first (a phone showed only the last moves).
  if (v.ending) body += `<div class="card" id="student-ending">${endingHtml(v.ending)}</div>`;
  else if (!due.length) body += '<div class="card"><p class="muted">No branch is open for predictions now.</p></div>';
  let laterShown = false;
  for (const branch of due) {
    if (!branch.due && !laterShown) {
      laterShown = true;
      body += '<h2 class="later">Later branches</h2><p class="muted">Not due this round: forecast how each will go if it comes up; you can change it each round until it does, and it is scored if it does.</p>';
    }
    const mine = v.mine[branch.id];
    if (branch.locked) {
      const yours = mine ? branch.outcomes.map((o) => `${words(o.id)} ${pct(mine[o.id] || 0)}`).join(", ") : "none";
      body += `<div class="card locked"><h2>${words(branch.id)}: predictions are locked</h2>
        <p>The room has seen how it went, so forecasts of it can no longer be made or changed.</p>
        <p>Your forecast: <b>${esc(yours)}</b></p></div>`;
      continue;
    }
    const draft = drafts[branch.id] || (drafts[branch.id] = {});
    const rows = branch.outcomes.map((o) => {
      const value = draft[o.id] ?? (mine ? Math.round(100 * (mine[o.id] || 0)) : "");
      return `<div class="outcome-row"><label for="p-${esc(branch.id)}-${esc(o.id)}">${words(o.id)} <span class="muted">${esc(o.text)}</span></label>
        <input type="number" min="0" max="100" step="1" inputmode="numeric" id="p-${esc(branch.id)}-${esc(o.id)}"
          data-branch="${esc(branch.id)}" data-outcome="${esc(o.id)}" value="${esc(value)}"> %</div>`;
    }).join("");
    const question = branch.chance || !branch.due ? `If ${words(branch.id)} comes up, how will it go?` : `How will ${words(branch.id)} go?`;
    const brings = branch.round ? `in round ${branch.round}${branch.condition ? `, if ${esc(branch.condition)}` : ""}` : branch.condition ? `when ${esc(branch.condition)}` : "";
    const told = branch.due && !branch.chance ? `<p>${esc(branch.text)}</p>`
      : branch.due ? `<p class="muted">It may come up this round, by chance, or later; if it does:</p><p>${esc(branch.text)}</p>`
      : `<p class="muted">It comes up ${brings}${branch.chance ? `${brings ? ", then" : ""} by chance` : ""}; if it does:</p><p>${esc(branch.text)}</p>`;
    body += `<div class="card"><h2>${question}</h2>${told}${rows}
      <button class="primary predict" data-branch="${esc(branch.id)}">${mine ? "Change my prediction" : "Predict"}</button>
      ${mine ? '<span class="tag ok recorded">recorded</span>' : ""}</div>`;
  }
  if (v.my_scores && v.my_scores.length) {
    const rows = v.my_scores.map((r) => {
      const forecast = Object.entries(r.probabilities).map(([o, p]) => `${words(o)} ${pct(p)}`).join(", ");
      const replayed = due.some((d) => d.id === r.branch && d.locked);
      const went = r.outcome ? `it went <b>${words(r.outcome)}</b>`
        : replayed ? "the round is played again after Back (the room saw how it went)"
        : v.phase === "over" ? "it never came up, so it is not scored" : "it has not resolved yet";
      const score = r.brier == null ? "" : ` · Brier <b>${r.brier.toFixed(3)}</b>${r.model_brier == null ? "" : ` (model ${r.model_brier.toFixed(3)})`}`;
      return `<li>${words(r.branch)}: you said ${esc(forecast)}; ${went}${score}</li>`;
    }).join("");
    body += `<div class="card" id="my-forecasts"><h2>Your forecasts</h2><ul>${rows}</ul></div>`;
  }
  const board = v.leaderboard.map((b, i) => {
    const me = v.me && b.student.toLowerCase() === v.me.toLowerCase();
    // A student with nothing scored yet has no rank (a blank, not 1 or 2).
    return `<tr class="${me ? "me" : ""}"><td>${b.brier == null ? "–" : i + 1}</td><td>${esc(b.student)}${me ? ' <span class="tag ok">you</span>' : ""}</td><td class="num">${b.brier == null ? "–" : b.brier.toFixed(3)}</td>
    <td class="num">${b.model_brier == null ? "–" : b.model_brier.toFixed(3)}</td><td class="num">${b.scored}/${b.predictions}</td></tr>`;
  }).join("");
  body += `<div class="card"><h2>Leaderboard</h2><p class="muted">Mean Brier score: 0 is perfect, 2 is sure and wrong; the model's forecast when you were asked, for comparison. Scored: forecasts whose branch has resolved, of those made.</p>
    <table id="leaderboard"><thead><tr><th>#</th><th>Name</th><th class="num">Brier</th><th class="num">Model</th><th class="num">Scored</th></tr></thead><tbody>${board}</tbody></table></div>`;
  if (v.played) body += `<div class="card"><h2>Round ${v.played.round}</h2>${branchesHtml(v.played.branches)}${movesHtml(v.played)}</div>`;
  render(header(v) + body);
  const takeName = () => {
    const typedName = document.getElementById("name").value.trim();
    if (!typedName) return Promise.reject(new Error("give your name first"));
    const known = secretOf(typedName);
    // The name this device had: the room drops it if it made no prediction, so a
    // changed name leaves no empty student behind (a lecturer counted 4 for 3 phones).
    const previous = studentName();
    const body = { name: typedName, secret: known };
    if (previous && previous.toLowerCase() !== typedName.toLowerCase()) Object.assign(body, { previous, previous_secret: studentSecret() });
    return post("/api/register", body).then((r) => {
      storeSecret(typedName, r.secret);
      used("name");
      return typedName;
    });
  };
  document.getElementById("set-name").addEventListener("click", () => act(takeName()));
  // Enter (a phone's Go) takes the name as the button does (a lecturer's trial: it did nothing).
  document.getElementById("name").addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); act(takeName()); }
  });
  for (const input of app.querySelectorAll("input[data-branch]")) {
    input.addEventListener("input", () => { drafts[input.dataset.branch][input.dataset.outcome] = input.value; });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      app.querySelector(`button.predict[data-branch="${CSS.escape(input.dataset.branch)}"]`).click();
    });
  }
  for (const button of app.querySelectorAll("button.predict")) {
    button.addEventListener("click", () => {
      const branch = button.dataset.branch;
      const probabilities = {};
      let total = 0;
      for (const input of app.querySelectorAll(`input[data-branch="${CSS.escape(branch)}"]`)) {
        probabilities[input.dataset.outcome] = (Number(input.value) || 0) / 100;
        total += Number(input.value) || 0;
      }
      // Said in per cent, as typed (the server's check speaks in fractions).
      if (Math.abs(total - 100) > 1) {
        showError(`Your percentages for ${words(branch)} add up to ${+total.toFixed(2)}%, not 100%.`);
        return;
      }
      const typedName = document.getElementById("name").value.trim();
      const ready = typedName && typedName.toLowerCase() !== studentName().toLowerCase() ? takeName() : Promise.resolve(studentName());
      act(ready.then((who) => post("/api/predict", { name: who, secret: studentSecret(), branch, probabilities })).then((r) => {
        storeSecret(studentName(), r.secret);
        delete drafts[branch];
      }));
    });
  }
}

function drawFacilitator(v) {
  document.body.className = "device facilitator";
  const f = v.facilitator;
  // ask: a question confirm() puts first (what will happen, with the real rounds), and
  // what the page says if it is answered no; a misclick next to "Reveal" does nothing.
  const control = (label, body, cls = "", ask = null) => `<button class="${cls}" data-control='${esc(JSON.stringify(body))}'${ask ? ` data-confirm="${esc(ask[0])}" data-declined="${esc(ask[1])}"` : ""}>${label}</button>`;
  let controls = "";
  if (v.phase === "ready") controls += control(`Open round ${v.round + 1}`, { do: "next" }, "primary");
  // Reveal asks first when a team has not chosen (a click meant for a button beside it
  // played the teams' moves by their rules): the server asks, where the choices are.
  if (v.phase === "open") controls += control("Reveal the round", { do: "reveal", ask: true }, "primary");
  if (v.round > 0) {
    let back = `Back one round? Round ${v.round} will be undone and opened again, the teams' choices kept as their defaults.`;
    if (v.phase === "open") back += ` The choices made for round ${v.round + 1} are dropped.`;
    controls += control("Back one round", { do: "back" }, "", [back, "Nothing undone."]);
  }
  if (v.phase !== "over") {
    const next = v.round + 1;
    const last = v.rounds;
    let end;
    if (v.phase === "open") {
      end = `End the game now? Round ${next} will be revealed with the teams' choices`;
      end += next < last ? `, and ${next + 1 < last ? `rounds ${next + 1} to ${last}` : `round ${last}`} will be played by the rules.` : ".";
    } else {
      end = `End the game now? ${next < last ? `Rounds ${next} to ${last}` : `Round ${last}`} will be played by the rules.`;
    }
    controls += control("End the game (rules play the rest)", { do: "end" }, "", [end, "Not ended: the game goes on."]);
  }
  let timer = "";
  if (v.phase === "open") {
    timer = `<div class="controls"><label>Timer <input id="seconds" data-keep type="number" min="1" max="3600" value="${f.timer_seconds}"> s</label>
      <button id="timer-start">Start</button>${control("Stop", { do: "timer", seconds: null })}</div>`;
  }
  const overrides = f.computer.map((c) => `<div class="controls"><b>${esc(c.actor)}</b>
    <select data-override="${esc(c.actor)}"><option value="">by its rule</option>${c.options.map((o) => `<option value="${esc(o)}" ${o === c.override ? "selected" : ""}>${words(o)}</option>`).join("")}${(c.closed || []).map((o) => `<option disabled>${words(o)} (not open this round)</option>`).join("")}</select></div>`).join("");
  const decisions = f.decisions.map((d) => `<div class="controls"><b>${esc(d.decider)}</b> decides ${words(d.branch)}
    <select data-outcome-override="${esc(d.branch)}"><option value="">by its rule</option>${d.outcomes.map((o) => `<option value="${esc(o)}" ${o === d.override ? "selected" : ""}>${words(o)}</option>`).join("")}</select></div>`).join("");
  const saves = f.saves.map((s) => `<option>${esc(s)}</option>`).join("");
  const odds = f.odds.filter((b) => b.outcomes).map((b) => `<li>${words(b.id)}: ${Object.entries(b.outcomes).sort((x, y) => y[1] - x[1]).map(([k, p]) => `${words(k)} ${pct(p)}`).join(", ")}</li>`).join("");
  const panels = roomPanels(v, { teams: false });
  const placeholder = f.save_path ? `empty: ${f.save_path}` : "file name, e.g. class-a";
  render(`${header(v, '<span class="tag people">facilitator</span>')}
    <div class="error" id="error">${esc(lastError)}</div>
    <div class="controls">${controls}</div>${timer}
    <div class="panelset">
      <div class="card" id="teams-card"><h2>Teams</h2>${teamsHtml(v)}
        ${overrides || decisions ? `<h3>Override a computer-played actor this round</h3>${overrides}${decisions}` : ""}</div>
      <div class="card"><h2>Files</h2>
        <div class="controls"><input id="save-name" data-keep placeholder="${esc(placeholder)}"><button id="save">Save</button><button id="fork">Fork</button></div>
        <div class="controls">${saves ? `<select id="load-name" data-keep>${saves}</select><button id="load">Load</button>` : '<span class="muted">No save to load yet.</span>'}</div>
        <p><a id="export" href="/api/export.csv?token=${encodeURIComponent(TOKEN)}">Predictions as CSV</a> ·
          <a id="debrief-link" href="${esc(v.debrief)}" target="_blank">Debrief page</a> <span class="muted">(safe to project)</span> ·
          <span id="students">${f.students} ${f.students === 1 ? "student" : "students"}, ${f.predictions} ${f.predictions === 1 ? "prediction" : "predictions"}</span></p>
        <p class="muted" id="notes">${f.notes.map(esc).join(" · ")}</p></div>
    </div>
    <div class="panelset"><div class="card">${panels.left}</div>${panels.middle ? `<div class="card">${panels.middle}</div>` : ""}</div>
    <div class="card">${panels.side}
      ${odds ? `<details class="facilitator-only" data-key="odds"><summary>Branch odds (for you only: hidden from the room until each resolves)</summary><ul class="tree">${odds}</ul></details>` : ""}</div>`);
  for (const button of app.querySelectorAll("button[data-control]")) {
    button.addEventListener("click", () => {
      if (button.dataset.confirm && !confirm(button.dataset.confirm)) {
        showError(button.dataset.declined);
        return;
      }
      // The server may ask first (Reveal while a team has not chosen): yes posts again.
      const body = JSON.parse(button.dataset.control);
      act(post("/api/control", body).catch((error) => {
        if (!(error.confirm && body.ask)) throw error;
        if (confirm(error.message)) return post("/api/control", { ...body, ask: false });
        throw new Error("Not revealed: the teams are still choosing.");
      }));
    });
  }
  for (const select of app.querySelectorAll("select[data-outcome-override]")) {
    select.addEventListener("change", () => act(post("/api/control", { do: "override", branch: select.dataset.outcomeOverride, outcome: select.value || null })));
  }
  for (const select of app.querySelectorAll("select[data-override]")) {
    select.addEventListener("change", () => act(post("/api/control", { do: "override", actor: select.dataset.override, action: select.value || null })));
  }
  const startTimer = document.getElementById("timer-start");
  if (startTimer) {
    startTimer.addEventListener("click", () => act(post("/api/control", { do: "timer", seconds: Number(document.getElementById("seconds").value) })
      .then(() => { delete typed.seconds; })));
  }
  const name = () => document.getElementById("save-name").value.trim();
  document.getElementById("save").addEventListener("click", () => {
    const chosen = name();
    const save = (overwrite) => post("/api/control", { do: "save", name: chosen, overwrite }).then(() => { used("save-name"); return refresh(); });
    lastError = "";
    save(false).catch((error) => {
      if (error.confirm) {
        if (confirm(error.message)) act(save(true));
        else showError("Not saved.");
      } else showError(error.message);
    });
  });
  document.getElementById("fork").addEventListener("click", () => act(post("/api/control", { do: "fork", name: name() }).then(() => used("save-name"))));
  const load = document.getElementById("load");
  if (load) load.addEventListener("click", () => act(post("/api/control", { do: "load", name: document.getElementById("load-name").value })));
}

function draw(v) {
  if (KIND === "projector") drawProjector(v);
  else if (KIND === "team") drawTeam(v);
  else if (KIND === "students") drawStudent(v);
  else if (KIND === "facilitator") drawFacilitator(v);
  tick();
}

// --- the debrief ------------------------------------------------------------------------

const COLOURS = ["#1a4f9c", "#c0392b", "#17693a", "#8e44ad", "#d35400", "#2c3e50", "#7f8c8d", "#b7950b"];

function chartSvg(d) {
  const columns = [{ label: "batch", shares: d.endings.map((e) => e.batch) }]
    .concat(d.rounds_of_outlooks.map((r, i) => ({ label: `r${r}`, shares: d.endings.map((e) => e.by_round[i]) })));
  // Labels at 18 of 900 units stay readable where the chart is a phone's width (it is
  // never narrower than 600 px: it scrolls inside its box there).
  const w = 900; const h = 280; const left = 58; const bottom = 30;
  const step = (w - left) / columns.length; const barw = Math.max(6, step * 0.7);
  let bars = "";
  columns.forEach((c, i) => {
    let y = h - bottom;
    c.shares.forEach((s, k) => {
      const height = s * (h - bottom - 10);
      y -= height;
      bars += `<rect x="${left + i * step}" y="${y.toFixed(1)}" width="${barw.toFixed(1)}" height="${height.toFixed(1)}" fill="${COLOURS[k % COLOURS.length]}"><title>${esc(d.endings[k].title)} ${pct(s)}</title></rect>`;
    });
    bars += `<text x="${left + i * step + barw / 2}" y="${h - 8}" font-size="18" text-anchor="middle">${esc(c.label)}</text>`;
  });
  const axis = [0, 0.5, 1].map((t) => `<text x="${left - 6}" y="${(h - bottom - t * (h - bottom - 10) + 6).toFixed(1)}" font-size="18" text-anchor="end">${pct(t)}</text>`).join("");
  return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="ending odds by round">${axis}${bars}</svg>`;
}

let chartColumns = -1;

function drawDebrief(d) {
  document.body.className = "debrief";
  const before = document.getElementById("odds-chart");
  const kept = before ? before.scrollLeft : 0;
  const ending = d.ending
    ? (() => {
      const share = d.endings.find((e) => e.id === d.ending.id).batch;
      return `<p class="prompt" id="room-ending">The room's game ended: ${esc(d.ending.title)} (round ${d.ending.round}). The batch reaches this ending in ${pct(share)} of ${d.batch_runs.toLocaleString()} games.</p>`;
    })()
    : `<p class="prompt">The game is not over (round ${d.round} of ${d.rounds}).</p>`;
  const legend = d.endings.map((e, k) => `<span><i style="background:${COLOURS[k % COLOURS.length]}"></i>${esc(e.title)}</span>`).join("");
  const withheld = d.withheld ? `<p class="prompt" id="withheld">${esc(d.withheld)}</p>` : "";
  const payoffs = d.payoffs.map((p) => `<tr><td>${esc(p.id)}</td><td class="num">${p.room.toFixed(2)}</td>
    <td class="num">${p.batch_mean.toFixed(2)}</td><td class="num">${p.batch_sd.toFixed(2)}</td><td class="num">${pct(p.share_below)}</td></tr>`).join("");
  const params = d.params.filter((p) => !p.fixed).map((p) => `<tr><td>${words(p.name)}</td>
    <td class="num">${typeof p.value === "string" ? esc(p.value) : num(p.value)}</td><td>${esc(p.unit)}</td>
    <td class="num">${p.batch_mean == null ? "" : num(p.batch_mean)}</td><td class="num">${p.share_below == null ? "" : pct(p.share_below)}</td></tr>`).join("");
  const board = d.leaderboard.map((b, i) => `<tr><td>${i + 1}</td><td>${esc(b.student)}</td><td class="num">${b.brier == null ? "–" : b.brier.toFixed(3)}</td><td class="num">${b.model_brier == null ? "–" : b.model_brier.toFixed(3)}</td></tr>`).join("");
  const branches = d.branches.map((b) => `<li>${words(b.id)} → ${words(b.outcome)} (round ${b.round})${b.by_people ? ' <span class="tag people">people</span>' : ""}</li>`).join("");
  render(`<header class="top"><h1>Debrief: ${esc(d.title)}</h1><span class="round" id="debrief-game">${d.seed == null ? `round ${d.round} of ${d.rounds}` : `seed ${d.seed}, run ${d.run}`}</span></header>
    ${ending}<ul class="tree">${branches}</ul>
    <h2>How the odds of each ending moved</h2><p class="muted">The batch (${d.batch_runs.toLocaleString()} games from the start, each with its uncertain parameters drawn anew), then the model's outlook after each round of the room's game (${d.continuations.toLocaleString()} continuations each, all with this game's own parameter values: why r0 can differ from the batch before anyone moved).</p>
    <div class="chart" id="odds-chart">${chartSvg(d)}</div><p class="muted swipe">The latest rounds are shown: swipe the chart for the earlier ones.</p><p class="legend">${legend}</p>
    ${withheld}${d.withheld ? "" : `<h2>Payoffs against the batch</h2><div class="wide"><table id="payoffs"><thead><tr><th>Actor</th><th class="num">This game</th><th class="num">Batch mean</th><th class="num">sd</th><th class="num">Games that did worse</th></tr></thead><tbody>${payoffs}</tbody></table></div>
    <h2>The hidden parameters of this game</h2><div class="wide"><table id="params"><thead><tr><th>Parameter</th><th class="num">Value</th><th>Unit</th><th class="num">Batch mean</th><th class="num">Draws below</th></tr></thead><tbody>${params}</tbody></table></div>`}
    <h2>Students' predictions</h2><table><thead><tr><th>#</th><th>Name</th><th class="num">Mean Brier</th><th class="num">Model</th></tr></thead><tbody>${board}</tbody></table>`);
  // On a phone the chart scrolls in its box: show its latest rounds (the room's game
  // now), not the batch and round 0 with the rest out of sight.
  // A redraw with the same rounds keeps where the reader had scrolled.
  const chart = document.getElementById("odds-chart");
  chart.scrollLeft = d.rounds_of_outlooks.length === chartColumns ? kept : chart.scrollWidth;
  chartColumns = d.rounds_of_outlooks.length;
  document.querySelector(".swipe").hidden = chart.scrollWidth <= chart.clientWidth;
}

// --- keeping up with the room -----------------------------------------------------------

function offline(lost) {
  let banner = document.getElementById("offline");
  if (!lost) { if (banner) banner.remove(); return; }
  if (banner) return;
  banner = document.createElement("div");
  banner.id = "offline";
  banner.className = "offline";
  banner.textContent = "Lost the classroom's server: trying again. If the class was restarted, open the new link.";
  document.body.prepend(banner);
}

function listen() {
  // The debrief listens too: opened mid-game, it fills in when the game ends.
  let seen = null;
  const source = new EventSource(`/api/events?token=${encodeURIComponent(TOKEN)}`);
  let waiting = false;
  // A server stopped: say so while the page retries. A server started again has new
  // links: this one's stream is refused, and the page shows why (it sat there, silent).
  // The stream also ends every EVENT_STREAM_SECONDS by design and reconnects within a
  // second: only an error that lasts (3 s without a connection) shows the banner.
  let lost = null;
  const back = () => { clearTimeout(lost); lost = null; offline(false); };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) { back(); refresh(); return; }
    if (lost === null) lost = setTimeout(() => offline(true), 3000);
  };
  source.onopen = back;
  source.onmessage = (event) => {
    back();
    if (event.data === seen) return;
    seen = event.data;
    // Redrawing keeps what is typed (render); only an open drop-down list would close,
    // so a focused list waits until it is left.
    const active = document.activeElement;
    if (active && active.tagName === "SELECT") {
      if (!waiting) {
        waiting = true;
        active.addEventListener("blur", () => { waiting = false; refresh(); }, { once: true });
      }
      return;
    }
    refresh();
  };
}

refresh();
listen();
setInterval(tick, 250);
window.addEventListener("resize", () => { if (KIND === "projector") fitPanels(); });
