// Formatted message bodies (docs/formatting-moderation.md).
//
// The server renders the Markdown subset once per message and sends the sanitised
// HTML as `body_html` (only for text with formatting: a plain message comes without
// it and is shown as text); the browser never renders Markdown itself, so a message looks
// the same here, in e-mails and in notifications. As a second wall the HTML is copied
// node by node through the same allow-list the server uses (nh3's): an element or
// attribute outside it is dropped, a link keeps only http(s)/mailto targets. Text
// without `body_html` (an optimistic send before the server answered) is shown as
// plain text with safe links, as before.

import { renderText } from "./format.js";

const ALLOWED = new Set(["P", "BR", "STRONG", "EM", "CODE", "PRE", "BLOCKQUOTE", "UL", "OL", "LI", "A"]);
const LINK_SCHEMES = new Set(["http:", "https:", "mailto:"]);

function copyAllowed(source, target) {
  for (const child of source.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) {
      target.append(child.textContent);
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    if (!ALLOWED.has(child.tagName)) {
      // Unknown markup: keep its text, never the element.
      target.append(child.textContent);
      continue;
    }
    let node;
    if (child.tagName === "A") {
      node = safeAnchor(child.getAttribute("href"));
      if (!node) {
        target.append(child.textContent);
        continue;
      }
    } else {
      node = document.createElement(child.tagName.toLowerCase());
      if (child.tagName === "OL" && /^\d{1,9}$/.test(child.getAttribute("start") || "")) {
        node.setAttribute("start", child.getAttribute("start"));
      }
    }
    copyAllowed(child, node);
    target.append(node);
  }
}

function safeAnchor(href) {
  let url;
  try {
    url = new URL(href || "", window.location.href);
  } catch {
    return null;
  }
  if (!LINK_SCHEMES.has(url.protocol)) return null;
  const link = document.createElement("a");
  link.href = url.href;
  link.rel = "nofollow noopener noreferrer";
  link.target = "_blank";
  return link;
}

/** Fill `element` with a message's body: the server's HTML, else plain text. */
export function renderBody(element, data) {
  element.textContent = "";
  const html = typeof data?.body_html === "string" ? data.body_html : "";
  element.classList.toggle("is-formatted", Boolean(html));
  if (!html) {
    renderText(element, data?.body);
    return;
  }
  // DOMParser documents run no scripts and load nothing.
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  copyAllowed(parsed.body, element);
}

/** Where a trailing note such as "(bearbeitet)" goes: inside the last paragraph. */
export function lastLine(element) {
  const last = element.lastElementChild;
  return last && last.tagName === "P" ? last : element;
}

const HINT = "Formatieren: **fett** (Strg+B), *kursiv* (Strg+I), `Code`, > Zitat, - Liste, 1. Liste";

/** The German formatting hint under the composer. */
export function formattingHint() {
  const hint = document.createElement("p");
  hint.className = "chat-hint chat-format-hint";
  hint.textContent = HINT;
  return hint;
}

/** Ctrl+B / Ctrl+I (Cmd on a Mac) put ** or * around the selection. Returns true if handled. */
export function handleFormattingKey(event, input) {
  if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return false;
  const key = event.key.toLowerCase();
  const marker = key === "b" ? "**" : key === "i" ? "*" : null;
  if (!marker) return false;
  event.preventDefault();
  const { selectionStart: start, selectionEnd: end, value } = input;
  const selected = value.slice(start, end);
  input.setRangeText(`${marker}${selected}${marker}`, start, end, "select");
  // With nothing selected the cursor lands between the markers.
  if (!selected) input.setSelectionRange(start + marker.length, start + marker.length);
  else input.setSelectionRange(start + marker.length, end + marker.length);
  input.dispatchEvent(new Event("input", { bubbles: true }));
  return true;
}
