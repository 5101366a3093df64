// German dates and times (Europe/Berlin), and user text rendered safely as text.

const TIME_ZONE = "Europe/Berlin";
const partsFormat = new Intl.DateTimeFormat("de-DE", {
  timeZone: TIME_ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});
const timeFormat = new Intl.DateTimeFormat("de-DE", {
  timeZone: TIME_ZONE,
  hour: "2-digit",
  minute: "2-digit",
});
const longDayFormat = new Intl.DateTimeFormat("de-DE", {
  timeZone: TIME_ZONE,
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
});
const fullFormat = new Intl.DateTimeFormat("de-DE", {
  timeZone: TIME_ZONE,
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

/** "2026-11-23": the calendar day in Berlin, for grouping messages by day. */
export function dayKey(date) {
  const parts = Object.fromEntries(partsFormat.formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** "Heute", "Gestern" or "Montag, 23. November 2026". */
export function dayLabel(date, now = new Date()) {
  const key = dayKey(date);
  const today = dayKey(now);
  if (key === today) return "Heute";
  const [y, m, d] = today.split("-").map(Number);
  // Noon UTC of the day before is the same calendar day in Berlin, DST or not.
  if (key === dayKey(new Date(Date.UTC(y, m - 1, d - 1, 12)))) return "Gestern";
  return longDayFormat.format(date);
}

export function formatTime(date) {
  return timeFormat.format(date);
}

export function formatFull(date) {
  return `${fullFormat.format(date)} Uhr`;
}

export function parseDate(value) {
  const date = value ? new Date(value) : new Date();
  return Number.isNaN(date.getTime()) ? new Date() : date;
}

export function initials(name) {
  const all = String(name || "?").trim().split(/\s+/).filter(Boolean);
  // Titles ("Dr.", "Prof.") are not initials.
  const words = all.filter((word) => !word.endsWith(".")).length ? all.filter((word) => !word.endsWith(".")) : all;
  const letters = [words[0], words.length > 1 ? words.at(-1) : ""].map((word) => Array.from(word || "")[0] || "");
  return letters.join("") || "?";
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"»“”]+$/;

/** An <a> for http(s) URLs only, opening in a new tab without referrer or opener. */
export function safeLink(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const link = document.createElement("a");
  link.href = url.href;
  link.textContent = raw;
  link.rel = "noopener noreferrer nofollow";
  link.target = "_blank";
  return link;
}

/** Fill `element` with `text` as text nodes; http(s) URLs become safe links. */
export function renderText(element, text) {
  element.textContent = "";
  const value = String(text ?? "");
  let last = 0;
  for (const match of value.matchAll(URL_PATTERN)) {
    const candidate = match[0].replace(TRAILING_PUNCTUATION, "");
    if (!candidate) continue;
    element.append(value.slice(last, match.index));
    element.append(safeLink(candidate) || candidate);
    last = match.index + candidate.length;
  }
  element.append(value.slice(last));
}

/** A random UUID, also where crypto.randomUUID is missing (plain http outside localhost). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A photo (same-site URL only) or the initials of `name`; decorative either way. */
export function avatarNode(url, name, className = "avatar") {
  if (typeof url === "string" && url.startsWith("/") && !url.startsWith("//")) {
    const image = document.createElement("img");
    image.className = `${className} avatar-photo`;
    image.src = url;
    image.alt = "";
    return image;
  }
  const span = document.createElement("span");
  span.className = className;
  span.setAttribute("aria-hidden", "true");
  span.textContent = initials(name || "");
  return span;
}
