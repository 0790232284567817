"use strict";
// The dashboard's only script. Every value is written with textContent: bodies and answers
// come from receivers and triggers, and none of it may become markup.
const space = new URLSearchParams(location.search).get("space");
const $ = (id) => document.getElementById(id);
// Header values other than these may be the receiver's credentials.
const SHOWN_HEADERS = ["content-type", "monime-signature"];
const PREFIXES = { payment: "pay", payout: "pyt", checkout_session: "scs", payment_code: "pmc" };
let attempts = [];
let selected = null;
if (space) $("space").value = space;

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text == null ? "" : String(text);
  if (className) td.className = className;
  return td;
}

async function call(path, options) {
  const response = await fetch(path, Object.assign({ cache: "no-store" }, options));
  const answer = await response.json();
  if (!response.ok) throw new Error((answer.error && answer.error.message) || response.status);
  return answer.result;
}

function renderWebhooks(webhooks) {
  const body = $("webhooks").tBodies[0];
  body.replaceChildren();
  for (const webhook of webhooks) {
    const row = body.insertRow();
    row.className = "webhook";
    cell(row, webhook.spaceId);
    cell(row, webhook.name);
    cell(row, webhook.url);
    cell(row, (webhook.events || []).join(", "));
    cell(row, webhook.enabled ? "yes" : "no");
  }
}

function renderAttempts() {
  const body = $("attempts").tBodies[0];
  body.replaceChildren();
  const shown = attempts.filter((a) => !space || a.spaceId === space).reverse().slice(0, 200);
  for (const attempt of shown) {
    const row = body.insertRow();
    row.className = "attempt";
    row.dataset.id = attempt.id;
    cell(row, attempt.time);
    cell(row, attempt.eventId);
    cell(row, attempt.eventName);
    cell(row, attempt.webhookId);
    cell(row, attempt.attempt).className = "number";
    const ok = attempt.status >= 200 && attempt.status < 300;
    cell(row, attempt.status == null ? attempt.error || "no answer" : attempt.status, ok ? "ok" : "bad");
    cell(row, attempt.latencyMs.toFixed(1) + " ms");
    const resend = document.createElement("button");
    resend.textContent = "Resend";
    resend.className = "resend";
    resend.addEventListener("click", (event) => {
      event.stopPropagation();
      call("/_mock/deliveries/" + encodeURIComponent(attempt.id) + "/resend", { method: "POST" })
        .finally(refresh);
    });
    cell(row, "").appendChild(resend);
    row.addEventListener("click", () => {
      selected = attempt.id;
      renderDetails();
    });
  }
}

function renderDetails() {
  const attempt = attempts.find((a) => a.id === selected);
  $("details").hidden = !attempt;
  if (!attempt) return;
  $("details-title").textContent =
    attempt.eventName + " " + attempt.eventId + ", attempt " + attempt.attempt;
  $("details-headers").textContent = attempt.requestHeaders
    .map(([name, value]) => name + ": " + (SHOWN_HEADERS.includes(name) ? value : "********"))
    .join("\n");
  let body = attempt.body;
  try {
    body = JSON.stringify(JSON.parse(attempt.body), null, 2);
  } catch (_) {
    // Not JSON: shown as it came.
  }
  $("details-body").textContent = body;
  $("details-answer").textContent =
    (attempt.status == null ? attempt.error || "" : attempt.status + " ") +
    (attempt.responseExcerpt || "");
}

async function refresh() {
  try {
    const query = space ? "?space=" + encodeURIComponent(space) : "";
    const [webhooks, log] = await Promise.all([
      call("/_mock/webhooks" + query),
      call("/_mock/deliveries?limit=500"),
    ]);
    renderWebhooks(webhooks);
    attempts = log;
    renderAttempts();
    renderDetails();
  } catch (error) {
    $("trigger-result").textContent = "cannot reach the emulator: " + error.message;
  }
}

$("trigger").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("event-name").value;
  const type = name.split(".")[0];
  const id = $("object-id").value || (PREFIXES[type] || "obj") + "-" + Date.now().toString(36);
  try {
    const result = await call("/_mock/events", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Monime-Space-Id": $("space").value },
      body: JSON.stringify({ name: name, object: { id: id, type: type } }),
    });
    $("trigger-result").textContent = "sent to " + result.deliveries.length + " webhook(s)";
  } catch (error) {
    $("trigger-result").textContent = error.message;
  }
  refresh();
});

refresh();
setInterval(refresh, 1000);
