// The unread badge in the navigation and small toasts for live notifications.

import { api, csrfToken } from "./api.js";
import { parseDate } from "./format.js";

const TOAST_MS = 10000;
// "3. Dezember 2026, 15:40 Uhr", as the centre's template writes it (`j. F Y, H:i`).
const entryDate = new Intl.DateTimeFormat("de-DE", {
  timeZone: "Europe/Berlin",
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

function entryTime(date) {
  const p = Object.fromEntries(entryDate.formatToParts(date).map((part) => [part.type, part.value]));
  return `${p.day}. ${p.month} ${p.year}, ${p.hour}:${p.minute} Uhr`;
}

function first(...values) {
  for (const value of values) if (value !== undefined && value !== null && value !== "") return String(value);
  return "";
}

/** Only same-site paths become links ("/gruppen/..."), never "//host" or "javascript:". */
function localPath(value) {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : "";
}

export function describe(frame) {
  const data = frame.data || {};
  const group = data.group && typeof data.group === "object" ? data.group : {};
  const slug = first(data.group_slug, group.slug, data.slug);
  const groupName = first(data.group_name, group.name, data.group_title, slug);
  const person = first(
    data.requester_name, data.user_name, data.author_name, data.sender_name,
    data.requester?.display_name, data.user?.display_name, data.author?.display_name, data.sender?.display_name,
  );
  const conversation = first(data.conversation_id, data.conversation);
  const preview = first(data.preview, data.excerpt, data.body, data.message);
  const conversationUrl = conversation ? `/nachrichten/${encodeURIComponent(conversation)}/` : "";
  switch (frame.kind) {
    case "join_request":
      return {
        title: "Neue Beitrittsanfrage",
        text: `${person || "Jemand"} möchte der Gruppe „${groupName}“ beitreten.`,
        url: localPath(data.requests_url) || (slug ? `/gruppen/${encodeURIComponent(slug)}/anfragen/` : localPath(data.url)),
        link: "Anfragen ansehen",
      };
    case "direct_message":
      return {
        title: `Neue Nachricht von ${person || "einer Person"}`,
        text: preview,
        url: localPath(data.url) || conversationUrl,
        link: "Öffnen",
        conversation,
      };
    case "mention":
      return {
        title: `${person || "Jemand"} hat Sie erwähnt`,
        text: groupName ? `In „${groupName}“: ${preview}` : preview,
        url: localPath(data.url) || (slug ? `/gruppen/${encodeURIComponent(slug)}/` : conversationUrl),
        link: "Ansehen",
        conversation,
      };
    case "reply":
      return {
        title: `${person || "Jemand"} hat Ihnen geantwortet`,
        text: first(groupName, data.conversation_title) ? `In „${first(groupName, data.conversation_title)}“: ${preview}` : preview,
        url: localPath(data.url) || conversationUrl,
        link: "Ansehen",
        conversation,
      };
    // engagement (docs/engagement.md): a question for the person, a quiet group.
    case "unanswered":
      return {
        title: "Können Sie helfen?",
        text: `${person || "Jemand"} fragt in „${groupName}“: ${preview}`,
        url: localPath(data.url) || (slug ? `/gruppen/${encodeURIComponent(slug)}/` : ""),
        link: "Frage beantworten",
      };
    case "group_quiet":
      return {
        title: `In „${groupName}“ ist es still`,
        text: "Seit 14 Tagen keine Nachricht: eine Frage bringt das Gespräch wieder in Gang.",
        url: localPath(data.url) || (slug ? `/gruppen/${encodeURIComponent(slug)}/` : ""),
        link: "Zur Gruppe",
      };
    // A moderator's warning about one's reported message (docs/formatting-moderation.md).
    case "warning":
      return {
        title: `Verwarnung in „${groupName}“`,
        text: data.text || "Eine Ihrer Nachrichten wurde gemeldet.",
        url: localPath(data.url) || (slug ? `/gruppen/${encodeURIComponent(slug)}/` : ""),
        link: "Zur Gruppe",
      };
    // Removed from a group by its owners or admins (docs/notifications.md).
    case "member_removed":
      return {
        title: "Aus der Gruppe entfernt",
        text: `Sie wurden aus der Gruppe „${groupName}“ entfernt.`,
        url: localPath(data.url) || (slug ? `/gruppen/${encodeURIComponent(slug)}/` : ""),
        link: "Zur Gruppe",
      };
    case "join_approved":
      return {
        title: "Beitritt angenommen",
        text: `Sie sind jetzt Mitglied der Gruppe „${groupName}“.`,
        url: localPath(data.url) || (slug ? `/gruppen/${encodeURIComponent(slug)}/` : ""),
        link: "Zur Gruppe",
      };
    case "join_declined":
      return {
        title: "Beitritt abgelehnt",
        text: `Ihre Anfrage für die Gruppe „${groupName}“ wurde abgelehnt.`,
        url: localPath(data.url) || (slug ? `/gruppen/${encodeURIComponent(slug)}/` : ""),
        link: "Zur Gruppe",
      };
    case "invitation":
      return {
        title: "Neue Einladung",
        text: `${first(data.invited_by?.display_name, person) || "Jemand"} lädt Sie in die Gruppe „${groupName}“ ein.`,
        url: localPath(data.url) || "/gruppen/einladungen/",
        link: "Einladung ansehen",
      };
    case "role_changed":
      return {
        title: "Neue Rolle",
        text: `Ihre Rolle in „${groupName}“: ${first(data.role_label, data.role)}.`,
        url: localPath(data.url) || (slug ? `/gruppen/${encodeURIComponent(slug)}/` : ""),
        link: "Zur Gruppe",
      };
    case "company_claim":
      return {
        title: "Neue Ansprechperson",
        text: `${first(data.person?.display_name) || "Jemand"} gibt an, bei „${first(data.company?.name) || "Ihrem Unternehmen"}“ zu arbeiten.`,
        url: localPath(data.url),
        link: "Prüfen",
      };
    default:
      return null;
  }
}

export class Notifier {
  constructor({ badge, container, openConversations, liveConversation = () => false }) {
    this.badge = badge;
    this.container = container;
    this.openConversations = openConversations;
    // A conversation whose messages arrive live toasts per message (unread.js).
    this.liveConversation = liveConversation;
    this.onChange = () => {};
  }

  /** Notifications read elsewhere (another tab, or settled: a request decided by
   * another admin) stop being "Neu" on the lists of this page. */
  markRead(frame) {
    if (typeof frame.unread_count === "number") this.setCount(frame.unread_count);
    const ids = Array.isArray(frame.ids) ? new Set(frame.ids.map(Number)) : null;
    for (const entry of document.querySelectorAll("[data-notification-id]")) {
      if (ids && !ids.has(Number(entry.dataset.notificationId))) continue;
      for (const node of [entry, ...entry.querySelectorAll(".is-unread")]) node.classList.remove("is-unread", "notification-unread");
      for (const mark of entry.querySelectorAll(".pill-accent, .notification-new")) mark.remove();
    }
  }

  /** Pages rendered without the unread count (no context processor) ask the API once. */
  async loadCountIfUnknown() {
    if (!this.badge || this.badge.dataset.unknown !== "true") return;
    try {
      const page = await api("/notifications?unread=true&limit=100");
      const count = typeof page?.unread_count === "number" ? page.unread_count : (page?.results || []).length;
      if (this.badge.dataset.unknown === "true") this.setCount(count);
    } catch {
      // The badge stays hidden; live notifications still count up.
    }
  }

  count() {
    return Number(this.badge?.dataset.count || 0);
  }

  setCount(count) {
    if (!this.badge) return;
    const value = Math.max(0, count);
    delete this.badge.dataset.unknown;
    this.badge.dataset.count = String(value);
    this.badge.querySelector(".badge-count").textContent = value > 99 ? "99+" : String(value);
    this.badge.hidden = value === 0;
    this.updateCentreCount(value);
    this.onChange();
  }

  /** The centre's own heading ("3 ungelesen") follows the badge. */
  updateCentreCount(value) {
    const heading = document.querySelector(".notifications-count[data-unread-count]");
    if (!heading) return;
    heading.dataset.unreadCount = String(value);
    heading.textContent = value ? `${value} ungelesen` : "Alles gelesen";
  }

  /** On the first page of the notification centre a new notification appears at the
   * top of the list, as the page would render it after a reload. */
  addToCentre(frame, toast) {
    const section = document.querySelector("section.notifications");
    if (!section || !frame.id) return;
    const pageNumber = new URLSearchParams(window.location.search).get("seite");
    if (pageNumber && pageNumber !== "1") return;
    let list = document.getElementById("notification-list");
    if (list?.querySelector(`[data-notification-id="${Number(frame.id)}"]`)) return;
    if (!list) {
      list = document.createElement("ol");
      list.className = "notification-list";
      list.id = "notification-list";
      const empty = section.querySelector(".notifications-empty");
      if (empty) empty.replaceWith(list);
      else section.append(list);
    }
    const id = Number(frame.id);
    const item = document.createElement("li");
    item.className = "notification notification-unread";
    item.dataset.notificationId = String(id);
    item.dataset.kind = String(frame.kind || "");
    const mark = document.createElement("span");
    mark.className = "notification-new";
    mark.textContent = "Neu";
    const link = document.createElement("a");
    link.className = "notification-link";
    link.href = `/benachrichtigungen/${id}/`;
    const strong = document.createElement("strong");
    strong.textContent = toast?.title || "Neue Benachrichtigung";
    link.append(strong);
    item.append(mark, link);
    if (toast?.text) {
      const detail = document.createElement("blockquote");
      detail.className = "notification-detail";
      detail.textContent = toast.text;
      item.append(detail);
    }
    const meta = document.createElement("p");
    meta.className = "notification-meta";
    const time = document.createElement("time");
    const created = parseDate(frame.created_at);
    time.dateTime = created.toISOString();
    time.textContent = entryTime(created);
    meta.append(time);
    const label = this.kindLabel(frame.kind);
    if (label) meta.append(` · ${label}`);
    item.append(meta);
    const token = csrfToken() || section.querySelector("input[name=csrfmiddlewaretoken]")?.value;
    if (token) {
      const form = document.createElement("form");
      form.method = "post";
      form.action = `/benachrichtigungen/${id}/gelesen/`;
      form.className = "inline-form";
      const csrf = document.createElement("input");
      csrf.type = "hidden";
      csrf.name = "csrfmiddlewaretoken";
      csrf.value = token;
      const button = document.createElement("button");
      button.type = "submit";
      button.textContent = "Als gelesen markieren";
      form.append(csrf, button);
      item.append(form);
    }
    list.prepend(item);
  }

  /** The centre's label of a kind ("Antwort", "Erwähnung"), as its template writes it
   * beside the time; the page carries them (`notification-kind-labels`). */
  kindLabel(kind) {
    if (this.kindLabels === undefined) {
      const data = document.getElementById("notification-kind-labels");
      try {
        this.kindLabels = data ? JSON.parse(data.textContent || "{}") : {};
      } catch {
        this.kindLabels = {};
      }
    }
    return Object.hasOwn(this.kindLabels, kind) ? String(this.kindLabels[kind]) : "";
  }

  handle(frame) {
    this.setCount(this.count() + 1);
    const toast = describe(frame);
    this.addToCentre(frame, toast);
    if (!toast) return;
    // The message is already in front of the person: no toast on top of it.
    const open = toast.conversation && this.openConversations().has(Number(toast.conversation));
    if (open && document.visibilityState === "visible") return;
    if (frame.kind === "direct_message" && this.liveConversation(Number(toast.conversation))) return;
    this.show(toast);
  }

  /** On a phone the toasts stand just above the visible composer, so they never hide
   * "Senden" or what one is typing; elsewhere at the bottom corner (CSS). */
  placeAboveComposer() {
    if (!this.container) return;
    const composer = window.matchMedia("(max-width: 480px)").matches
      ? Array.from(document.querySelectorAll(".chat-composer")).find((form) => form.getClientRects().length)
      : null;
    const top = composer ? composer.getBoundingClientRect().top : 0;
    this.container.style.bottom = composer && top > 0 && top < window.innerHeight ? `${window.innerHeight - top + 8}px` : "";
  }

  alert(text) {
    this.show({ title: text, text: "", url: "", link: "" });
  }

  show({ title, text, url, link }) {
    if (!this.container) return;
    const toast = document.createElement("div");
    toast.className = "toast";
    const body = document.createElement("div");
    body.className = "toast-body";
    const heading = document.createElement("span");
    heading.className = "toast-title";
    heading.textContent = title;
    body.append(heading);
    if (text) {
      const line = document.createElement("span");
      line.className = "toast-text";
      line.textContent = text;
      body.append(line);
    }
    if (url) {
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.textContent = link;
      body.append(anchor);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Hinweis schließen");
    close.textContent = "×";
    close.addEventListener("click", () => toast.remove());
    toast.append(body, close);
    this.container.append(toast);
    this.placeAboveComposer();
    let timer = setTimeout(() => toast.remove(), TOAST_MS);
    // Reading or tabbing into a toast keeps it.
    const hold = () => clearTimeout(timer);
    const release = () => {
      clearTimeout(timer);
      timer = setTimeout(() => toast.remove(), TOAST_MS);
    };
    toast.addEventListener("mouseenter", hold);
    toast.addEventListener("focusin", hold);
    toast.addEventListener("mouseleave", release);
    toast.addEventListener("focusout", release);
  }
}
