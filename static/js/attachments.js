// Attachments in the chat panel (docs/attachments.md): upload by button, drag and drop
// or paste, a progress bar per file, removable chips before sending; in the timeline
// images as thumbnails (a click opens the full image) and other files as cards.

import { ApiError, csrfToken } from "./api.js";

export const MAX_BYTES = 10 * 1024 * 1024;
export const MAX_PER_MESSAGE = 10;
const TOO_LARGE = "Die Datei ist größer als 10 MB.";
const NOT_ALLOWED = "Dieser Dateityp ist nicht erlaubt.";
const TOO_MANY = `Höchstens ${MAX_PER_MESSAGE} Dateien pro Nachricht.`;
// What the file picker offers; the server judges the content, this only helps choose.
const ACCEPT = [
  ".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf", ".docx", ".xlsx", ".pptx",
  ".odt", ".ods", ".odp", ".doc", ".xls", ".txt", ".csv",
];
const LABELS = {
  "image/jpeg": "JPEG-Bild",
  "image/png": "PNG-Bild",
  "image/gif": "GIF-Bild",
  "image/webp": "WebP-Bild",
  "application/pdf": "PDF-Dokument",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word-Dokument",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel-Tabelle",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint-Präsentation",
  "application/vnd.oasis.opendocument.text": "OpenDocument-Text",
  "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument-Tabelle",
  "application/vnd.oasis.opendocument.presentation": "OpenDocument-Präsentation",
  "application/msword": "Word-Dokument",
  "application/vnd.ms-excel": "Excel-Tabelle",
  "text/plain": "Textdatei",
  "text/csv": "CSV-Tabelle",
};

// Icons are CSS masks (static/css/netzn.css): no SVG or emoji in the message DOM.
function icon(name, className) {
  const node = el("span", `${className} chat-icon-${name}`);
  node.setAttribute("aria-hidden", "true");
  return node;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "1,2 MB", "340 KB", "12 Bytes": German number format, 1 KB = 1,024 bytes. */
export function formatSize(bytes) {
  const number = (value, digits) =>
    value.toLocaleString("de-DE", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  if (bytes < 1024) return `${number(bytes, 0)} ${bytes === 1 ? "Byte" : "Bytes"}`;
  if (bytes < 1024 * 1024) return `${number(bytes / 1024, bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${number(bytes / (1024 * 1024), 1)} MB`;
}

export function typeLabel(contentType) {
  return LABELS[String(contentType || "").split(";")[0].trim()] || "Datei";
}

function allowedByName(file) {
  const name = String(file.name || "").toLowerCase();
  // Pasted pictures often have no useful name; their type says what they are.
  if (!name.includes(".")) return String(file.type || "").startsWith("image/");
  return ACCEPT.some((extension) => name.endsWith(extension));
}

/** Upload one file with progress (XMLHttpRequest: fetch has no upload progress). */
function upload(conversationId, file, onProgress) {
  const request = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    request.open("POST", `/api/v1/conversations/${conversationId}/attachments`);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      if (request.status === 201) resolve(request.response);
      else reject(new ApiError(request.status, request.response));
    });
    request.addEventListener("error", () =>
      reject(new ApiError(0, { error: { detail: "Keine Verbindung zum Server." } })),
    );
    request.addEventListener("abort", () => reject(new ApiError(-1, null)));
    const form = new FormData();
    form.append("file", file, file.name || "Bild.png");
    request.send(form);
  });
  return { request, done };
}

function errorText(error) {
  if (error.status === 413) return TOO_LARGE;
  if (error.status === 415) return NOT_ALLOWED;
  return error.message || "Die Datei konnte nicht hochgeladen werden.";
}

/** The composer's part: button, drop zone, paste, chips with progress. */
export class AttachmentComposer {
  constructor(panel) {
    this.panel = panel;
    this.items = []; // {file, chip, progress, state: "uploading"|"ready"|"failed", data, request}
    const form = panel.form;
    const row = form.querySelector(".chat-composer-row");
    this.input = el("input");
    this.input.type = "file";
    this.input.multiple = true;
    this.input.accept = ACCEPT.join(",");
    this.input.hidden = true;
    this.input.tabIndex = -1;
    this.button = el("button", "button button-quiet chat-attach");
    this.button.type = "button";
    this.button.title = "Datei anhängen";
    this.button.append(icon("paperclip", "chat-icon"), el("span", "visually-hidden", "Datei anhängen"));
    this.chips = el("ul", "chat-pending-files");
    this.chips.setAttribute("aria-label", "Anhänge dieser Nachricht");
    this.chips.hidden = true;
    row.prepend(this.button);
    form.prepend(this.input);
    row.before(this.chips);
    this.button.addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => {
      this.add(Array.from(this.input.files || []));
      this.input.value = "";
    });
    panel.input.addEventListener("paste", (event) => {
      const files = Array.from(event.clipboardData?.files || []);
      if (!files.length) return;
      event.preventDefault();
      this.add(files);
    });
    const root = panel.root;
    let depth = 0;
    const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
    root.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      depth += 1;
      root.classList.add("is-dropping");
    });
    root.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) root.classList.remove("is-dropping");
    });
    root.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    root.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      root.classList.remove("is-dropping");
      this.add(Array.from(event.dataTransfer.files || []));
    });
  }

  showError(text) {
    const error = this.panel.composerError;
    error.textContent = text;
    error.hidden = false;
  }

  add(files) {
    for (const file of files) {
      if (this.items.filter((item) => item.state !== "failed").length >= MAX_PER_MESSAGE) {
        this.showError(TOO_MANY);
        break;
      }
      if (file.size > MAX_BYTES) {
        this.showError(`${file.name}: ${TOO_LARGE}`);
        continue;
      }
      if (!allowedByName(file)) {
        this.showError(`${file.name}: ${NOT_ALLOWED}`);
        continue;
      }
      this.start(file);
    }
  }

  start(file) {
    const item = { file, state: "uploading", data: null, request: null };
    const chip = el("li", "chat-pending-file is-uploading");
    const name = el("span", "chat-pending-name", file.name || "Bild");
    const size = el("span", "chat-pending-size", formatSize(file.size));
    const progress = el("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", `Hochladen: ${file.name || "Bild"}`);
    const remove = el("button", "chat-pending-remove", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", `Anhang ${file.name || "Bild"} entfernen`);
    remove.addEventListener("click", () => this.remove(item));
    chip.append(name, size, progress, remove);
    item.chip = chip;
    item.progress = progress;
    this.items.push(item);
    this.chips.append(chip);
    this.chips.hidden = false;
    const { request, done } = upload(this.panel.conversationId, file, (share) => {
      progress.value = Math.round(share * 100);
    });
    item.request = request;
    done.then(
      (data) => {
        item.state = "ready";
        item.data = data;
        progress.value = 100;
        progress.hidden = true;
        chip.classList.remove("is-uploading");
        chip.classList.add("is-ready");
        name.textContent = data.name;
      },
      (error) => {
        if (error.status === -1) return; // removed while uploading
        item.state = "failed";
        chip.classList.remove("is-uploading");
        chip.classList.add("is-failed");
        progress.hidden = true;
        size.textContent = errorText(error);
        this.showError(`${file.name || "Bild"}: ${errorText(error)}`);
      },
    );
  }

  remove(item) {
    this.items = this.items.filter((other) => other !== item);
    item.chip.remove();
    if (item.state === "uploading") item.request?.abort();
    if (item.state === "ready") {
      // The server would delete it after 24 hours anyway; this frees it at once.
      fetch(`/api/v1/attachments/${item.data.id}`, {
        method: "DELETE",
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      }).catch(() => {});
    }
    this.chips.hidden = this.items.length === 0;
    this.panel.input.focus();
  }

  busy() {
    return this.items.some((item) => item.state === "uploading");
  }

  /** The uploaded attachments for the message being sent; the chips are cleared. */
  take() {
    const ready = this.items.filter((item) => item.state === "ready").map((item) => item.data);
    for (const item of this.items) item.chip.remove();
    this.items = [];
    this.chips.hidden = true;
    return ready;
  }
}

/** A message's files below its text: thumbnails for images, cards for the rest. */
export function renderAttachments(node, data) {
  node.querySelector(".chat-files")?.remove();
  const files = data.deleted ? [] : data.attachments || [];
  if (!files.length) return;
  const list = el("ul", "chat-files");
  list.setAttribute("aria-label", files.length === 1 ? "Anhang" : `${files.length} Anhänge`);
  for (const file of files) {
    const item = el("li", "chat-file");
    if (file.thumbnail_url) {
      const link = el("a", "chat-file-image");
      link.href = file.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.title = `${file.name} (${formatSize(file.size)}) in voller Größe öffnen`;
      const image = el("img");
      image.src = file.thumbnail_url;
      image.alt = file.name;
      image.loading = "lazy";
      link.append(image);
      item.append(link);
    } else {
      const card = el("a", "chat-file-card");
      card.href = file.url;
      card.setAttribute("download", file.name);
      card.append(
        icon("file", "chat-file-icon"),
        el("span", "chat-file-name", file.name),
        el("span", "chat-file-meta", `${typeLabel(file.content_type)} · ${formatSize(file.size)}`),
      );
      card.setAttribute("aria-label", `${file.name}, ${typeLabel(file.content_type)}, ${formatSize(file.size)}, herunterladen`);
      item.append(card);
    }
    list.append(item);
  }
  node.querySelector(".chat-body").after(list);
}
