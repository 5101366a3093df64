// "Melden": report someone else's message to the moderators of its group (the
// existing POST /api/v1/messages/<id>/report, docs/formatting-moderation.md). A small
// German dialog asks for the reason (a choice and an optional text); the reporter
// learns nothing about other people's reports.

import { api } from "./api.js";

const REASONS = [
  ["Spam oder Werbung", "Spam oder Werbung"],
  ["Beleidigung oder Belästigung", "Beleidigung oder Belästigung"],
  ["Falsche oder irreführende Angaben", "Falsche oder irreführende Angaben"],
  ["Vertrauliche oder persönliche Daten", "Vertrauliche oder persönliche Daten"],
  ["Sonstiges", "Etwas anderes"],
];
const NOTE_MAX = 800;

let dialog = null;
let current = null; // {messageId, opener, onDone}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function buildDialog() {
  const box = el("dialog", "report-dialog");
  box.setAttribute("aria-labelledby", "report-dialog-title");
  const form = el("form", "stack");
  form.method = "dialog";
  // The app checks the reason itself (submit below), in German; the browser's own
  // `required` bubble would stop the submit first, in the browser's language.
  form.noValidate = true;
  const title = el("h2", null, "Nachricht melden");
  title.id = "report-dialog-title";
  const intro = el("p", "helptext", "Die Moderation (in einer Gruppe deren Admins) sieht die Meldung und entscheidet. Wer gemeldet hat, bleibt vertraulich.");
  const choices = el("fieldset", "report-reasons");
  choices.append(el("legend", null, "Grund"));
  REASONS.forEach(([value, label], index) => {
    const id = `report-reason-${index}`;
    const row = el("div", "report-reason");
    const radio = el("input");
    radio.type = "radio";
    radio.name = "reason";
    radio.value = value;
    radio.id = id;
    radio.required = true;
    const text = el("label", null, label);
    text.htmlFor = id;
    row.append(radio, text);
    choices.append(row);
  });
  const noteLabel = el("label", null, "Ergänzung (freiwillig)");
  noteLabel.htmlFor = "report-note";
  const note = el("textarea");
  note.id = "report-note";
  note.name = "note";
  note.rows = 3;
  note.maxLength = NOTE_MAX;
  const error = el("p", "field-error");
  error.id = "report-error";
  error.setAttribute("role", "alert");
  error.hidden = true;
  choices.setAttribute("aria-describedby", error.id);
  choices.addEventListener("change", () => {
    error.hidden = true;
  });
  const row = el("div", "button-row");
  const send = el("button", "button button-danger", "Melden");
  send.type = "submit";
  send.value = "send";
  const cancel = el("button", "button button-quiet", "Abbrechen");
  cancel.type = "button";
  cancel.addEventListener("click", () => box.close());
  row.append(send, cancel);
  form.append(title, intro, choices, noteLabel, note, error, row);
  box.append(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(form, error, send);
  });
  box.addEventListener("close", () => {
    const opener = current?.opener;
    current = null;
    if (opener?.isConnected) opener.focus();
  });
  document.body.append(box);
  return box;
}

async function submit(form, error, send) {
  if (!current) return;
  const choice = form.querySelector("input[name=reason]:checked");
  if (!choice) {
    error.textContent = "Bitte wählen Sie einen Grund.";
    error.hidden = false;
    form.querySelector("input[name=reason]")?.focus();
    return;
  }
  const note = form.querySelector("textarea").value.trim();
  const reason = note ? `${choice.value}: ${note}` : choice.value;
  send.disabled = true;
  error.hidden = true;
  const { messageId, onDone } = current;
  try {
    await api(`/messages/${messageId}/report`, { method: "POST", body: { reason } });
  } catch (failure) {
    error.textContent = failure.message || "Die Meldung konnte nicht gesendet werden.";
    error.hidden = false;
    send.disabled = false;
    return;
  }
  send.disabled = false;
  dialog.close();
  onDone?.();
}

/** Open the dialog for one message; `onDone` runs after the report was stored. */
export function openReportDialog(messageId, opener, onDone) {
  if (!dialog) dialog = buildDialog();
  const form = dialog.querySelector("form");
  form.reset();
  const error = dialog.querySelector(".field-error");
  error.hidden = true;
  current = { messageId, opener, onDone };
  dialog.showModal();
  dialog.querySelector("input[name=reason]").focus();
}

/** The "Melden" action of a message by someone else (a hook in panel.js). */
export function reportButton(panel, data) {
  const button = el("button", "chat-action", "Melden");
  button.type = "button";
  button.setAttribute("aria-label", `Nachricht von ${data.author?.display_name || "Unbekannt"} melden`);
  button.addEventListener("click", () => {
    panel.closeMenus?.();
    openReportDialog(data.id, button, () => {
      button.textContent = "Gemeldet";
      button.disabled = true;
      panel.notifier?.alert("Danke, die Nachricht ist gemeldet. Die Moderation sieht sie sich an.");
    });
  });
  return button;
}
